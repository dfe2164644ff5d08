import { recoverMessageAddress } from 'viem';
import { bytesToHex, identitySign, identityVerify, utf8 } from '#crypto';
import type { AgentAuthorization, Grant } from '#protocol';
import { agentRequestText, type AgentRequestFields } from './grant.js';

/**
 * An agent's authorization of one request under a grant: its session key's signature over
 * `agentRequestText` (grant id, intent hash, nonce, timestamp).
 *
 * - An `ed25519` grantee signs the UTF-8 bytes of the text (`signAgentRequest`).
 * - An `eip191` grantee signs the text as an EIP-191 personal message, with any Ethereum wallet or
 *   viem: `signAgentRequestWith(privateKeyToAccount(secretKey), fields)`, which is
 *   `account.signMessage({ message: agentRequestText(fields) })` without the 0x. The signature's
 *   signer is recovered and compared with the grantee's address.
 *
 * Freshness (the timestamp) and replay (the nonce) are the enforcer's to check; this checks only who
 * signed what, and that the authorization is for this grant.
 */

/** True when `auth` is for `grant` and signed by the grant's grantee. Never throws. */
export async function verifyAgentAuthorization(grant: Grant, auth: AgentAuthorization): Promise<boolean> {
  if (auth.grantId.toLowerCase() !== grant.id.toLowerCase()) return false;
  const text = agentRequestText(auth);
  const g = grant.grantee;
  if (g.kind === 'ed25519') return /^[0-9a-f]{128}$/.test(auth.signature) && identityVerify(g.publicKey, utf8(text), auth.signature);
  if (!/^[0-9a-f]{130}$/.test(auth.signature)) return false;
  try {
    const signer = await recoverMessageAddress({ message: text, signature: `0x${auth.signature}` });
    return signer.toLowerCase() === g.address.toLowerCase();
  } catch {
    return false;
  }
}

/** An Ed25519 session key's authorization of a request (`secretKeyHex` as libs/crypto `generateIdentity` makes it). */
export const signAgentRequest = (secretKeyHex: string, fields: AgentRequestFields): AgentAuthorization => ({
  grantId: fields.grantId,
  intentHash: fields.intentHash,
  nonce: fields.nonce,
  timestamp: fields.timestamp,
  signature: identitySign(secretKeyHex, utf8(agentRequestText(fields))),
});

/** Anything that signs EIP-191 personal messages as viem's accounts do (`privateKeyToAccount(...)`). */
export interface PersonalMessageSigner {
  signMessage(args: { message: string }): Promise<`0x${string}`>;
}

/** An `eip191` grantee's authorization of a request, signed by a viem account or a wallet like one. */
export async function signAgentRequestWith(signer: PersonalMessageSigner, fields: AgentRequestFields): Promise<AgentAuthorization> {
  const signature = await signer.signMessage({ message: agentRequestText(fields) });
  return { grantId: fields.grantId, intentHash: fields.intentHash, nonce: fields.nonce, timestamp: fields.timestamp, signature: signature.slice(2).toLowerCase() };
}

/** A fresh nonce for an agent request: 16 random bytes, hex. */
export const agentNonce = (): string => bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
