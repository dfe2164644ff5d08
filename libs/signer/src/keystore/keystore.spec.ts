import { readFile, readdir, stat, writeFile, chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authTranscript } from '#protocol';
import { dealKey, getSuite, identityVerify } from '#crypto';
import { SignerError } from '../signer-error.js';
import { tempDir } from '../testing/key-fixtures.js';
import { writeFileAtomic } from './atomic-file.js';
import { Keystore } from './keystore.js';
import type { KeyShare } from './keystore-records.js';

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

function dealtShare(index = 0): KeyShare {
  const dealt = dealKey('secp256k1', 2, 3);
  const identifier = getSuite('secp256k1').identifier(index + 1);
  return {
    keyId: '6f9619ff-8b86-4d11-b42d-00c04fc964ff',
    suite: 'secp256k1',
    identifier,
    signingShare: dealt.secretShares[identifier]!,
    publicPackage: dealt.public,
  };
}

describe('Keystore', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(() => dir.cleanup());

  it('creates the directory 0700 and identity.json 0600, and reopens it', async () => {
    const root = join(dir.path, 'ks');
    const created = await Keystore.init(root);
    expect(await mode(root)).toBe(0o700);
    expect(await mode(join(root, 'shares'))).toBe(0o700);
    expect(await mode(join(root, 'identity.json'))).toBe(0o600);
    const record = JSON.parse(await readFile(join(root, 'identity.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ version: 1, publicKey: created.publicKey });

    const reopened = await Keystore.open(root);
    expect(reopened.publicKey).toBe(created.publicKey);
    const transcript = authTranscript('c1', '00'.repeat(32));
    expect(identityVerify(reopened.publicKey, transcript, reopened.signWithIdentity(transcript))).toBe(true);
  });

  it('tightens the mode of an existing directory', async () => {
    const root = join(dir.path, 'loose');
    await mkdir(root, { mode: 0o755 });
    await chmod(root, 0o755);
    await Keystore.init(root);
    expect(await mode(root)).toBe(0o700);
  });

  it('refuses to replace an identity without force, and replaces it with force', async () => {
    const root = join(dir.path, 'ks');
    const first = await Keystore.init(root);
    await expectSignerError(Keystore.init(root), 'IDENTITY_EXISTS', /--force/);
    expect((await Keystore.open(root)).publicKey).toBe(first.publicKey);
    const second = await Keystore.init(root, { force: true });
    expect(second.publicKey).not.toBe(first.publicKey);
    expect((await Keystore.open(root)).publicKey).toBe(second.publicKey);
  });

  it('tells the operator to run init when the keystore is missing or empty', async () => {
    await expectSignerError(Keystore.open(join(dir.path, 'absent')), 'KEYSTORE_MISSING', /init --keystore/);
    await mkdir(join(dir.path, 'empty'));
    await expectSignerError(Keystore.open(join(dir.path, 'empty')), 'KEYSTORE_NOT_INITIALIZED', /init --keystore/);
    await writeFile(join(dir.path, 'file'), 'x');
    await expectSignerError(Keystore.open(join(dir.path, 'file')), 'KEYSTORE_MISSING', /not a directory/);
  });

  it('reports a corrupt or unreadable identity', async () => {
    const root = join(dir.path, 'ks');
    await Keystore.init(root);
    const path = join(root, 'identity.json');
    await writeFile(path, '{"version":1,');
    await expectSignerError(Keystore.open(root), 'IDENTITY_CORRUPT', /not valid JSON/);
    await writeFile(path, JSON.stringify({ version: 1, publicKey: 'zz' }));
    await expectSignerError(Keystore.open(root), 'IDENTITY_CORRUPT', /publicKey/);
    const other = (await Keystore.init(join(dir.path, 'other'))).publicKey;
    const mine = JSON.parse(await readFile(join(dir.path, 'other', 'identity.json'), 'utf8')) as { secretKey: string };
    await writeFile(path, JSON.stringify({ version: 1, publicKey: 'ab'.repeat(32), secretKey: mine.secretKey }));
    expect(other).not.toBe('ab'.repeat(32));
    await expectSignerError(Keystore.open(root), 'IDENTITY_CORRUPT', /do not match/);
    if (process.getuid?.() !== 0) {
      await writeFile(path, '{}');
      await chmod(path, 0o000);
      await expectSignerError(Keystore.open(root), 'IDENTITY_CORRUPT', /unreadable/);
    }
  });

  it('writes shares 0600, reads them back checked, and never overwrites one', async () => {
    const keystore = await Keystore.init(join(dir.path, 'ks'));
    const share = dealtShare();
    await keystore.writeShare(share);
    const path = join(keystore.dir, 'shares', `${share.keyId}.json`);
    expect(await mode(path)).toBe(0o600);
    expect(await keystore.readShare(share.keyId)).toEqual(share);
    expect(await keystore.listShares()).toEqual([share]);
    await expectSignerError(keystore.writeShare(share), 'SHARE_EXISTS');
    // no temp file is left behind
    expect(await readdir(join(keystore.dir, 'shares'))).toEqual([`${share.keyId}.json`]);
  });

  it('reports a missing share, a corrupt one, and one that does not match its public package', async () => {
    const keystore = await Keystore.init(join(dir.path, 'ks'));
    await expectSignerError(keystore.readShare('6f9619ff-8b86-4d11-b42d-00c04fc964ff'), 'SHARE_MISSING');
    expect(await keystore.findShare('../identity')).toBeNull();

    const share = dealtShare();
    await keystore.writeShare(share);
    const path = join(keystore.dir, 'shares', `${share.keyId}.json`);
    const record = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;

    await writeFile(path, JSON.stringify({ ...record, signingShare: dealtShare().signingShare }));
    await expectSignerError(keystore.readShare(share.keyId), 'SHARE_INVALID', /does not match/);
    await expectSignerError(keystore.listShares(), 'SHARE_INVALID');

    await writeFile(path, '{ torn');
    await expectSignerError(keystore.readShare(share.keyId), 'SHARE_CORRUPT', /not valid JSON/);

    await expectSignerError(keystore.writeShare({ ...share, keyId: '../escape' }), 'SHARE_INVALID', /not a UUID/);
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
