import { Keystore } from '../keystore/keystore.js';

export interface InitKeystoreOptions {
  keystore: string;
  force?: boolean;
}

/** `signer init`: creates the keystore and the node's identity. */
export async function initKeystore(options: InitKeystoreOptions): Promise<{ publicKey: string; keystore: string }> {
  const keystore = await Keystore.init(options.keystore, { force: options.force ?? false });
  return { publicKey: keystore.publicKey, keystore: keystore.dir };
}

/** `signer identity`: the node's public key, for an admin to enroll. */
export async function readIdentity(options: { keystore: string }): Promise<{ publicKey: string; keystore: string }> {
  const keystore = await Keystore.open(options.keystore);
  return { publicKey: keystore.publicKey, keystore: keystore.dir };
}
