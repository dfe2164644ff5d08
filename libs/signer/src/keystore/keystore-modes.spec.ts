import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dealKey, getSuite } from '#crypto';
import { pathsOpenToOthers } from '#store-lock';
import { exportShare, importShare } from '../admin/share-backup.js';
import { NonceStore } from '../nonces/nonce-store.js';
import { TEST_PASSPHRASE, initTestKeystore, tempDir } from '../testing/key-fixtures.js';
import { Keystore } from './keystore.js';
import { lockKeystore } from './keystore-lock.js';
import { KDF_COSTS } from './passphrase-key.js';
import { sealShareToIdentity } from './sealed-share.js';

const KEY_A = '6f9619ff-8b86-4d11-b42d-00c04fc964ff';
const KEY_B = '7f9619ff-8b86-4d11-b42d-00c04fc964ff';
const KEY_C = '8f9619ff-8b86-4d11-b42d-00c04fc964ff';
const share = (keyId: string) => {
  const dealt = dealKey('secp256k1', 2, 3);
  const identifier = getSuite('secp256k1').identifier(1);
  return { keyId, suite: 'secp256k1' as const, identifier, signingShare: dealt.secretShares[identifier]!, publicPackage: dealt.public };
};

describe('keystore file modes', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let umask: number;
  beforeEach(async () => {
    dir = await tempDir();
    // The explicit modes must hold whatever the umask: the usual 022 here.
    umask = process.umask(0o022);
  });
  afterEach(async () => {
    process.umask(umask);
    await dir.cleanup();
  });

  it('every path of a used keystore is its owner\'s only: identity, shares, inbox, pending, journal, lock, exports', async () => {
    const root = join(dir.path, 'ks');
    const keystore = await initTestKeystore(root);
    const lock = await lockKeystore(root);
    try {
      await keystore.writeShare(share(KEY_A));
      await Keystore.deliverSealedShare(root, KEY_B, sealShareToIdentity(share(KEY_B), keystore.publicKey));
      await Keystore.deliverSealedShare(root, KEY_C, sealShareToIdentity(share(KEY_C), (await initTestKeystore(join(dir.path, 'other'))).publicKey));
      await keystore.importInbox();
      await keystore.markPending(KEY_A);
      const nonces = await NonceStore.open(keystore.nonceJournal);
      await nonces.discardAll('test');
      await nonces.close();
      expect(await pathsOpenToOthers(root)).toEqual([]);
    } finally {
      await lock.release();
    }
    const backup = join(dir.path, 'a.backup');
    const passphrases = { passphrase: TEST_PASSPHRASE, exportPassphrase: 'export passphrase' };
    await exportShare({ keystore: root, ...passphrases, keyId: KEY_A, out: backup, kdfCost: KDF_COSTS.test });
    expect(await pathsOpenToOthers(backup)).toEqual([]);
    await keystore.removeShare(KEY_A);
    await importShare({ keystore: root, ...passphrases, in: backup });
    expect(await pathsOpenToOthers(root)).toEqual([]);
  });
});
