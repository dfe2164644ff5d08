import { generateIdentity, identitySign, isValidIdentityKey, utf8, type IdentityKeyPair } from '#crypto';
import type { Grantee } from '#protocol';

/**
 * The agent's session key: what a grant names as its grantee, and what signs each request under it
 * (libs/intent `agentRequestText`). It only requests signatures; the threshold key stays with the nodes.
 */
export interface SessionKey {
  readonly grantee: Grantee;
  /** Signs the text (UTF-8) and returns the signature as lower-case hex without a prefix. */
  sign(text: string): Promise<string>;
}

/** An Ed25519 session key; keep `secretKey` where the agent runs and nowhere else. */
export interface Ed25519SessionKey extends SessionKey {
  readonly grantee: Extract<Grantee, { kind: 'ed25519' }>;
  readonly publicKey: string;
  readonly secretKey: string;
}

/** An EIP-191 signer, as a viem account is one (`privateKeyToAccount`, a wallet client's account). */
export interface Eip191Signer {
  readonly address: `0x${string}`;
  signMessage(args: { message: string }): Promise<`0x${string}`>;
}

/** An Ed25519 session key from a key pair the agent kept (hex, as `createSessionKey` returns it). */
export function ed25519SessionKey(pair: IdentityKeyPair): Ed25519SessionKey {
  if (!isValidIdentityKey(pair.publicKey)) throw new TypeError('not a canonical Ed25519 public key of prime order');
  const { publicKey, secretKey } = pair;
  return {
    grantee: { kind: 'ed25519', publicKey },
    publicKey,
    secretKey,
    sign: (text) => Promise.resolve(identitySign(secretKey, utf8(text))),
  };
}

/** A fresh Ed25519 session key pair (#crypto's identity keys) and the grantee a grant names it by. */
export const createSessionKey = (): Ed25519SessionKey => ed25519SessionKey(generateIdentity());

/**
 * A session key held by an Ethereum account: the grant names its address (`eip191` grantee) and each
 * request is an EIP-191 personal_sign over the request text (65 bytes, r || s || v).
 */
export function eip191SessionKey(account: Eip191Signer): SessionKey & { readonly grantee: Extract<Grantee, { kind: 'eip191' }> } {
  return {
    grantee: { kind: 'eip191', address: account.address },
    sign: async (text) => (await account.signMessage({ message: text })).replace(/^0x/, '').toLowerCase(),
  };
}
