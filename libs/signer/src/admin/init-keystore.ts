import { Keystore } from '../keystore/keystore.js';
import { withKeystoreLock } from '../keystore/keystore-lock.js';
import type { KdfCost } from '../keystore/passphrase-key.js';
import { SignerError } from '../signer-error.js';

export interface InitKeystoreOptions {
  keystore: string;
  passphrase: string;
  force?: boolean;
  /** scrypt cost of the new keystore; strong by default. */
  kdfCost?: KdfCost;
}

/**
 * `signer init`: creates the keystore and the node's identity, holding the keystore's lock: `--force`
 * never replaces the identity under a running node.
 */
export async function initKeystore(options: InitKeystoreOptions): Promise<{ publicKey: string; keystore: string }> {
  if (!options.passphrase) throw new SignerError('PASSPHRASE_MISSING', 'a passphrase is required to create a keystore');
  const keystore = await withKeystoreLock(
    options.keystore,
    () =>
      Keystore.init(options.keystore, {
        passphrase: options.passphrase,
        force: options.force ?? false,
        ...(options.kdfCost ? { kdfCost: options.kdfCost } : {}),
      }),
    { create: true },
  );
  return { publicKey: keystore.publicKey, keystore: keystore.dir };
}

/** `signer identity`: the node's public key, for an admin to enroll (opening the keystore proves the passphrase). */
export async function readIdentity(options: { keystore: string; passphrase: string }): Promise<{ publicKey: string; keystore: string }> {
  const keystore = await Keystore.open(options.keystore, { passphrase: options.passphrase });
  return { publicKey: keystore.publicKey, keystore: keystore.dir };
}
