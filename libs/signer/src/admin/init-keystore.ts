import { Keystore } from '../keystore/keystore.js';
import type { KdfCost } from '../keystore/passphrase-key.js';

export interface InitKeystoreOptions {
  keystore: string;
  passphrase: string;
  force?: boolean;
  /** scrypt cost of the new keystore; strong by default. */
  kdfCost?: KdfCost;
}

/** `signer init`: creates the keystore and the node's identity. */
export async function initKeystore(options: InitKeystoreOptions): Promise<{ publicKey: string; keystore: string }> {
  const keystore = await Keystore.init(options.keystore, {
    passphrase: options.passphrase,
    force: options.force ?? false,
    ...(options.kdfCost ? { kdfCost: options.kdfCost } : {}),
  });
  return { publicKey: keystore.publicKey, keystore: keystore.dir };
}

/** `signer identity`: the node's public key, for an admin to enroll (opening the keystore proves the passphrase). */
export async function readIdentity(options: { keystore: string; passphrase: string }): Promise<{ publicKey: string; keystore: string }> {
  const keystore = await Keystore.open(options.keystore, { passphrase: options.passphrase });
  return { publicKey: keystore.publicKey, keystore: keystore.dir };
}
