import { chmod, mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authTranscript } from '#protocol';
import { dealKey, getSuite, identityVerify } from '#crypto';
import { SignerError } from '../signer-error.js';
import { TEST_KEYSTORE, TEST_PASSPHRASE, initTestKeystore, openTestKeystore, tempDir } from '../testing/key-fixtures.js';
import { writeFileAtomic } from './atomic-file.js';
import { sealFile } from './encrypted-file.js';
import { Keystore } from './keystore.js';
import type { KeyShare } from './keystore-records.js';
import { KDF_COSTS, PassphraseKey } from './passphrase-key.js';
import { sealShareToIdentity } from './sealed-share.js';

const KEY_ID = '6f9619ff-8b86-4d11-b42d-00c04fc964ff';
const mode = async (path: string) => (await stat(path)).mode & 0o777;

async function expectSignerError(promise: Promise<unknown>, code: string, text?: RegExp): Promise<SignerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SignerError);
  expect((error as SignerError).code).toBe(code);
  if (text) expect((error as SignerError).message).toMatch(text);
  return error as SignerError;
}

/** Every file under `dir` with its bytes and mode: to prove a failure changed nothing on disk. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    out[path] = entry.isFile() ? `${await mode(path)}:${(await readFile(path)).toString('base64')}` : `dir ${await mode(path)}`;
  }
  return out;
}

/** Runs `attempt`, expects it to fail with `code`, and checks that nothing under `dir` changed. */
async function expectUnchanged(dir: string, attempt: () => Promise<unknown>, code: string, text?: RegExp): Promise<void> {
  const before = await snapshot(dir);
  await expectSignerError(attempt(), code, text);
  expect(await snapshot(dir)).toEqual(before);
}

function dealtShare(index = 0, keyId = KEY_ID): KeyShare {
  const dealt = dealKey('secp256k1', 2, 3);
  const identifier = getSuite('secp256k1').identifier(index + 1);
  return { keyId, suite: 'secp256k1', identifier, signingShare: dealt.secretShares[identifier]!, publicPackage: dealt.public };
}

type Json = Record<string, unknown> & { kdf: Record<string, unknown> };
const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Json;
const writeJson = (path: string, value: unknown) => writeFile(path, JSON.stringify(value));
/** Flips one bit of a hex or base64 field's first byte. */
const flipHex = (hex: string) => `${(parseInt(hex[0]!, 16) ^ 1).toString(16)}${hex.slice(1)}`;
const flipBase64 = (b64: string) => {
  const bytes = Buffer.from(b64, 'base64');
  bytes[0]! ^= 1;
  return bytes.toString('base64');
};

describe('Keystore at rest', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let root: string;
  beforeEach(async () => {
    dir = await tempDir();
    root = join(dir.path, 'ks');
  });
  afterEach(() => dir.cleanup());

  it('creates the directories 0700 and an encrypted identity.json 0600, and reopens it with the passphrase', async () => {
    const created = await initTestKeystore(root);
    expect(await mode(root)).toBe(0o700);
    expect(await mode(join(root, 'shares'))).toBe(0o700);
    expect(await mode(join(root, 'inbox'))).toBe(0o700);
    expect(await mode(join(root, 'identity.json'))).toBe(0o600);
    const file = await readJson(join(root, 'identity.json'));
    expect(file).toMatchObject({
      format: 'roundtable-keystore',
      version: 2,
      purpose: 'identity',
      publicKey: created.publicKey,
      kdf: { name: 'scrypt', N: KDF_COSTS.test.N, r: 8, p: 1 },
      cipher: 'xchacha20poly1305',
    });
    expect(Object.keys(file)).not.toContain('secretKey');
    expect(await Keystore.readPublicKey(root)).toBe(created.publicKey);

    const reopened = await openTestKeystore(root);
    expect(reopened.publicKey).toBe(created.publicKey);
    const transcript = authTranscript('c1', '00'.repeat(32));
    expect(identityVerify(reopened.publicKey, transcript, reopened.signWithIdentity(transcript))).toBe(true);
  });

  it('uses the strong scrypt cost unless told otherwise', async () => {
    await Keystore.init(root, { passphrase: TEST_PASSPHRASE });
    expect((await readJson(join(root, 'identity.json'))).kdf).toMatchObject({ N: 2 ** 17, r: 8, p: 1 });
  });

  it('tightens the mode of an existing directory', async () => {
    await mkdir(root, { mode: 0o755 });
    await chmod(root, 0o755);
    await initTestKeystore(root);
    expect(await mode(root)).toBe(0o700);
  });

  it('requires a passphrase, and refuses an empty one', async () => {
    await expectSignerError(Keystore.init(root, { passphrase: '' }), 'PASSPHRASE_MISSING');
    await initTestKeystore(root);
    await expectUnchanged(root, () => Keystore.open(root, { passphrase: '' }), 'PASSPHRASE_MISSING');
  });

  it('refuses to replace an identity without force; with force needs the current passphrase and keeps the shares', async () => {
    const first = await initTestKeystore(root);
    await first.writeShare(dealtShare());
    await expectUnchanged(root, () => initTestKeystore(root), 'IDENTITY_EXISTS', /--force/);
    await expectUnchanged(root, () => Keystore.init(root, { ...TEST_KEYSTORE, passphrase: 'wrong', force: true }), 'WRONG_PASSPHRASE');
    const second = await initTestKeystore(root, { force: true });
    expect(second.publicKey).not.toBe(first.publicKey);
    const reopened = await openTestKeystore(root);
    expect(reopened.publicKey).toBe(second.publicKey);
    expect(await reopened.listShares()).toHaveLength(1);
  });

  it('tells the operator to run init when the keystore is missing or empty', async () => {
    const open = (d: string) => Keystore.open(d, { passphrase: TEST_PASSPHRASE });
    await expectSignerError(open(join(dir.path, 'absent')), 'KEYSTORE_MISSING', /init --keystore/);
    await mkdir(join(dir.path, 'empty'));
    await expectSignerError(open(join(dir.path, 'empty')), 'KEYSTORE_NOT_INITIALIZED', /init --keystore/);
    await writeFile(join(dir.path, 'file'), 'x');
    await expectSignerError(open(join(dir.path, 'file')), 'KEYSTORE_MISSING', /not a directory/);
  });

  it('a wrong passphrase is WRONG_PASSPHRASE and changes nothing', async () => {
    await (await initTestKeystore(root)).writeShare(dealtShare());
    await expectUnchanged(root, () => Keystore.open(root, { passphrase: 'not the passphrase' }), 'WRONG_PASSPHRASE', /wrong passphrase/);
  });

  it('a truncated identity or share is KEYSTORE_CORRUPT and changes nothing', async () => {
    const keystore = await initTestKeystore(root);
    await keystore.writeShare(dealtShare());
    const sharePath = join(root, 'shares', `${KEY_ID}.json`);
    const share = await readFile(sharePath, 'utf8');
    await writeFile(sharePath, share.slice(0, share.length / 2));
    await expectUnchanged(root, () => keystore.readShare(KEY_ID), 'KEYSTORE_CORRUPT', /truncated/);
    await expectUnchanged(root, () => keystore.listShares(), 'KEYSTORE_CORRUPT');

    const identityPath = join(root, 'identity.json');
    const identity = await readFile(identityPath, 'utf8');
    await writeFile(identityPath, identity.slice(0, -40));
    await expectUnchanged(root, () => openTestKeystore(root), 'KEYSTORE_CORRUPT');
    await writeFile(identityPath, '');
    await expectUnchanged(root, () => openTestKeystore(root), 'KEYSTORE_CORRUPT');
  });

  it('refuses a version 1 (plaintext) record with a clear message', async () => {
    await initTestKeystore(root);
    await writeJson(join(root, 'identity.json'), { version: 1, publicKey: 'ab'.repeat(32), secretKey: 'cd'.repeat(32) });
    await expectUnchanged(root, () => openTestKeystore(root), 'KEYSTORE_CORRUPT', /unencrypted/);
  });

  describe('a flipped byte is detected and changes nothing', () => {
    let keystore: Keystore;
    let identityPath: string;
    let sharePath: string;
    let identity: Json;
    let share: Json;
    beforeEach(async () => {
      keystore = await initTestKeystore(root);
      await keystore.writeShare(dealtShare());
      identityPath = join(root, 'identity.json');
      sharePath = join(root, 'shares', `${KEY_ID}.json`);
      identity = await readJson(identityPath);
      share = await readJson(sharePath);
    });

    it('in the ciphertext', async () => {
      await writeJson(identityPath, { ...identity, ciphertext: flipBase64(identity.ciphertext as string) });
      await expectUnchanged(root, () => openTestKeystore(root), 'KEYSTORE_TAMPERED', /fails authentication/);
      await writeJson(sharePath, { ...share, ciphertext: flipBase64(share.ciphertext as string) });
      await expectUnchanged(root, () => keystore.readShare(KEY_ID), 'KEYSTORE_TAMPERED');
    });

    it('in the header: nonce, public key, key check, KDF parameters', async () => {
      await writeJson(identityPath, { ...identity, nonce: flipHex(identity.nonce as string) });
      await expectUnchanged(root, () => openTestKeystore(root), 'KEYSTORE_TAMPERED');
      await writeJson(identityPath, { ...identity, publicKey: flipHex(identity.publicKey as string) });
      await expectUnchanged(root, () => openTestKeystore(root), 'KEYSTORE_TAMPERED');
      // The identity is what proves the passphrase: an altered KDF header or key check reads as a wrong passphrase.
      await writeJson(identityPath, { ...identity, keyCheck: flipHex(identity.keyCheck as string) });
      await expectUnchanged(root, () => openTestKeystore(root), 'WRONG_PASSPHRASE');
      await writeJson(identityPath, identity);

      await writeJson(sharePath, { ...share, nonce: flipHex(share.nonce as string) });
      await expectUnchanged(root, () => keystore.readShare(KEY_ID), 'KEYSTORE_TAMPERED');
      await writeJson(sharePath, { ...share, keyCheck: flipHex(share.keyCheck as string) });
      await expectUnchanged(root, () => keystore.readShare(KEY_ID), 'KEYSTORE_TAMPERED', /key check/);
      await writeJson(sharePath, { ...share, kdf: { ...share.kdf, salt: flipHex(share.kdf.salt as string) } });
      await expectUnchanged(root, () => keystore.readShare(KEY_ID), 'KEYSTORE_TAMPERED', /KDF/);
      await writeJson(sharePath, { ...share, kdf: { ...share.kdf, N: 2 ** 11 } });
      await expectUnchanged(root, () => keystore.readShare(KEY_ID), 'KEYSTORE_TAMPERED');
    });

    it('in an AAD-bound field: the purpose (a share file moved to another key id)', async () => {
      await writeJson(sharePath, { ...share, purpose: 'identity' });
      await expectUnchanged(root, () => keystore.readShare(KEY_ID), 'KEYSTORE_TAMPERED', /not "share:/);
      await writeJson(sharePath, share);
      const otherId = '7f9619ff-8b86-4d11-b42d-00c04fc964ff';
      await rename(sharePath, join(root, 'shares', `${otherId}.json`));
      await expectUnchanged(root, () => keystore.readShare(otherId), 'KEYSTORE_TAMPERED');
      // the same purpose text with a re-labelled header: still refused, the tag binds the header
      await writeJson(join(root, 'shares', `${otherId}.json`), { ...share, purpose: `share:${otherId}` });
      await expectUnchanged(root, () => keystore.readShare(otherId), 'KEYSTORE_TAMPERED', /fails authentication/);
    });
  });

  it('writes shares encrypted and 0600, reads them back checked, and never overwrites one', async () => {
    const keystore = await initTestKeystore(root);
    const share = dealtShare();
    await keystore.writeShare(share);
    const path = join(root, 'shares', `${share.keyId}.json`);
    expect(await mode(path)).toBe(0o600);
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(share.signingShare);
    expect(JSON.parse(text)).toMatchObject({ purpose: `share:${share.keyId}` });
    expect(await keystore.readShare(share.keyId)).toEqual(share);
    expect(await (await openTestKeystore(root)).listShares()).toEqual([share]);
    await expectUnchanged(root, () => keystore.writeShare(share), 'SHARE_EXISTS');
    expect(await readdir(join(root, 'shares'))).toEqual([`${share.keyId}.json`]);
  });

  it('refuses a share that does not match its public package, and a key id that is not a UUID', async () => {
    const keystore = await initTestKeystore(root);
    await expectSignerError(keystore.readShare(KEY_ID), 'SHARE_MISSING');
    expect(await keystore.findShare('../identity')).toBeNull();
    const share = dealtShare();
    await expectUnchanged(root, () => keystore.writeShare({ ...share, signingShare: dealtShare().signingShare }), 'SHARE_INVALID', /does not match/);
    await expectUnchanged(root, () => keystore.writeShare({ ...share, keyId: '../escape' }), 'SHARE_INVALID', /not a UUID/);
  });

  describe('sealed shares (dealer to inbox)', () => {
    it('round trip: delivered without the passphrase, imported when asked for, inbox file removed', async () => {
      const keystore = await initTestKeystore(root);
      const share = dealtShare(1);
      const publicKey = await Keystore.readPublicKey(root);
      await Keystore.deliverSealedShare(root, KEY_ID, sealShareToIdentity(share, publicKey));
      const inboxPath = join(root, 'inbox', `${KEY_ID}.sealed.json`);
      expect(await mode(inboxPath)).toBe(0o600);
      expect(await readFile(inboxPath, 'utf8')).not.toContain(share.signingShare);
      expect(await Keystore.holdsKey(root, KEY_ID)).toBe(true);
      await expectSignerError(Keystore.deliverSealedShare(root, KEY_ID, 'x'), 'SHARE_EXISTS');

      expect(await keystore.findShare(KEY_ID)).toEqual(share);
      expect(await readdir(join(root, 'inbox'))).toEqual([]);
      expect(await readdir(join(root, 'shares'))).toEqual([`${KEY_ID}.json`]);
      expect(await (await openTestKeystore(root)).readShare(KEY_ID)).toEqual(share);
    });

    it('importInbox imports the good ones and renames the refused ones .rejected', async () => {
      const keystore = await initTestKeystore(root);
      const other = await initTestKeystore(join(dir.path, 'other'));
      const ids = ['10000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000002', '30000000-0000-4000-8000-000000000003', '40000000-0000-4000-8000-000000000004'];
      const [good, wrongRecipient, tampered, mismatched] = ids;
      await Keystore.deliverSealedShare(root, good!, sealShareToIdentity(dealtShare(0, good), keystore.publicKey));
      // sealed to another node's identity
      await Keystore.deliverSealedShare(root, wrongRecipient!, sealShareToIdentity(dealtShare(0, wrongRecipient), other.publicKey));
      // one byte of the ciphertext flipped
      const sealed = JSON.parse(sealShareToIdentity(dealtShare(0, tampered), keystore.publicKey)) as Json;
      await Keystore.deliverSealedShare(root, tampered!, JSON.stringify({ ...sealed, ciphertext: flipBase64(sealed.ciphertext as string) }));
      // authentic, but the share does not match the public package
      const bad = { ...dealtShare(0, mismatched), signingShare: dealtShare().signingShare };
      await Keystore.deliverSealedShare(root, mismatched!, sealShareToIdentity(bad, keystore.publicKey));

      const result = await keystore.importInbox();
      expect(result.imported).toEqual([good]);
      expect(result.rejected.map((e) => e.code)).toEqual(['SEALED_SHARE_REJECTED', 'SEALED_SHARE_REJECTED', 'SEALED_SHARE_REJECTED']);
      expect(result.rejected[0]!.message).toMatch(/sealed to identity/);
      expect(result.rejected[1]!.message).toMatch(/fails authentication/);
      expect(result.rejected[2]!.message).toMatch(/does not match/);
      expect((await readdir(join(root, 'inbox'))).sort()).toEqual(
        [wrongRecipient, tampered, mismatched].map((id) => `${id}.sealed.json.rejected`).sort(),
      );
      expect((await keystore.listShares()).map((s) => s.keyId)).toEqual([good]);
      // a refused share is not tried again, and asking for its key finds nothing
      expect(await keystore.findShare(tampered!)).toBeNull();
      expect((await keystore.importInbox()).rejected).toEqual([]);
    });

    it('a proposal-time import of a bad sealed share is a clear error and leaves it renamed', async () => {
      const keystore = await initTestKeystore(root);
      const other = await initTestKeystore(join(dir.path, 'other'));
      await Keystore.deliverSealedShare(root, KEY_ID, sealShareToIdentity(dealtShare(), other.publicKey));
      await expectSignerError(keystore.findShare(KEY_ID), 'SEALED_SHARE_REJECTED', /\.rejected/);
      expect(await readdir(join(root, 'inbox'))).toEqual([`${KEY_ID}.sealed.json.rejected`]);
      expect(await readdir(join(root, 'shares'))).toEqual([]);
    });
  });

  describe('share export and import', () => {
    const EXPORT_PASSPHRASE = 'a separate export passphrase';
    it('round trip into the same identity; the export file holds no plaintext share and no identity in the clear', async () => {
      const keystore = await initTestKeystore(root);
      const share = dealtShare();
      await keystore.writeShare(share);
      const text = await keystore.exportShare(KEY_ID, EXPORT_PASSPHRASE, KDF_COSTS.test);
      expect(text).not.toContain(share.signingShare);
      expect(text).not.toContain(keystore.publicKey);
      expect(JSON.parse(text)).toMatchObject({ purpose: `share-export:${KEY_ID}` });
      await keystore.removeShare(KEY_ID);
      expect(await keystore.importShare(text, EXPORT_PASSPHRASE)).toEqual({ share, exportedBy: keystore.publicKey, forced: false });
      expect(await keystore.readShare(KEY_ID)).toEqual(share);
      await expectUnchanged(root, () => keystore.importShare(text, EXPORT_PASSPHRASE), 'SHARE_EXISTS');
    });

    it('refuses a backup made by another identity, naming both keys, unless forced', async () => {
      const keystore = await initTestKeystore(root);
      const share = dealtShare();
      await keystore.writeShare(share);
      const text = await keystore.exportShare(KEY_ID, EXPORT_PASSPHRASE, KDF_COSTS.test);
      const target = join(dir.path, 'restored');
      const restored = await initTestKeystore(target);
      await expectUnchanged(
        target,
        () => restored.importShare(text, EXPORT_PASSPHRASE),
        'SHARE_IDENTITY_MISMATCH',
        new RegExp(`made by identity ${keystore.publicKey}, not by this keystore's identity ${restored.publicKey}; pass --force`),
      );
      expect(await restored.importShare(text, EXPORT_PASSPHRASE, { force: true })).toEqual({ share, exportedBy: keystore.publicKey, forced: true });
      expect(await restored.readShare(KEY_ID)).toEqual(share);
    });

    it('refuses a backup that records no identity (an older export) unless forced', async () => {
      const keystore = await initTestKeystore(root);
      const share = dealtShare();
      const exportKey = await PassphraseKey.create(EXPORT_PASSPHRASE, KDF_COSTS.test);
      const older = sealFile(exportKey, `share-export:${KEY_ID}`, { version: 2, ...share });
      await expectUnchanged(root, () => keystore.importShare(older, EXPORT_PASSPHRASE), 'SHARE_IDENTITY_MISMATCH', /records no identity/);
      expect(await keystore.importShare(older, EXPORT_PASSPHRASE, { force: true })).toEqual({ share, exportedBy: null, forced: true });
    });

    it('wrong export passphrase, truncated or tampered export: typed errors, nothing written', async () => {
      const keystore = await initTestKeystore(root);
      await keystore.writeShare(dealtShare());
      const text = await keystore.exportShare(KEY_ID, EXPORT_PASSPHRASE, KDF_COSTS.test);
      const file = JSON.parse(text) as Json;
      const target = join(dir.path, 'target');
      const restored = await initTestKeystore(target);
      await expectUnchanged(target, () => restored.importShare(text, TEST_PASSPHRASE), 'WRONG_PASSPHRASE');
      await expectUnchanged(target, () => restored.importShare(text.slice(0, 100), EXPORT_PASSPHRASE), 'KEYSTORE_CORRUPT');
      const flipped = JSON.stringify({ ...file, ciphertext: flipBase64(file.ciphertext as string) });
      await expectUnchanged(target, () => restored.importShare(flipped, EXPORT_PASSPHRASE), 'KEYSTORE_TAMPERED');
      const relabelled = JSON.stringify({ ...file, purpose: 'share-export:7f9619ff-8b86-4d11-b42d-00c04fc964ff' });
      await expectUnchanged(target, () => restored.importShare(relabelled, EXPORT_PASSPHRASE), 'KEYSTORE_TAMPERED');
      // a keystore file is not an export
      const shareFile = await readFile(join(root, 'shares', `${KEY_ID}.json`), 'utf8');
      await expectUnchanged(target, () => restored.importShare(shareFile, TEST_PASSPHRASE), 'KEYSTORE_TAMPERED', /not a share export/);
    });

    it('refuses an export passphrase equal to the keystore passphrase', async () => {
      const keystore = await initTestKeystore(root);
      await keystore.writeShare(dealtShare());
      await expectSignerError(keystore.exportShare(KEY_ID, TEST_PASSPHRASE, KDF_COSTS.test), 'INVALID_CONFIG', /must differ/);
      await expectSignerError(keystore.exportShare(KEY_ID, '', KDF_COSTS.test), 'PASSPHRASE_MISSING');
    });
  });
});

describe('writeFileAtomic', () => {
  it('replaces the whole file with mode 0600 and leaves no temp file', async () => {
    const dir = await tempDir();
    try {
      const path = join(dir.path, 'f.json');
      await writeFile(path, 'old contents that are longer than the new ones');
      await chmod(path, 0o644);
      await writeFileAtomic(path, 'new');
      expect(await readFile(path, 'utf8')).toBe('new');
      expect(await mode(path)).toBe(0o600);
      expect(await readdir(dir.path)).toEqual(['f.json']);
    } finally {
      await dir.cleanup();
    }
  });

  it('leaves the old file intact when the write fails', async () => {
    const dir = await tempDir();
    try {
      const path = join(dir.path, 'f.json');
      await writeFile(path, 'old');
      // A directory in the way makes rename fail after the temp file was written.
      await expect(writeFileAtomic(join(dir.path, 'missing', 'f.json'), 'x')).rejects.toThrow();
      await mkdir(join(dir.path, 'blocker.json'));
      await expect(writeFileAtomic(join(dir.path, 'blocker.json'), 'x')).rejects.toThrow();
      expect(await readFile(path, 'utf8')).toBe('old');
      expect((await readdir(dir.path)).sort()).toEqual(['blocker.json', 'f.json']);
    } finally {
      await dir.cleanup();
    }
  });
});
