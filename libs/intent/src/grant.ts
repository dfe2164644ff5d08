import { canonicalJson, identitySign, identityVerify, sha256Hex, utf8 } from '#crypto';
import { GRANT_VERSION, type Grant, type SignedGrantDecision, type UnsignedGrantDecision } from '#protocol';

/** Domain separation tags of everything signed or hashed for grants (never valid for another purpose). */
const GRANT_TAG = `roundtable/grant/v${GRANT_VERSION}\n`;
const GRANT_DECISION_TAG = 'roundtable/grant-decision/v1\n';
const AGENT_REQUEST_TAG = 'roundtable/agent-request/v1\n';
const GRANT_REVOCATION_TAG = 'roundtable/grant-revocation/v1\n';

/** SHA-256 of the grant's canonical encoding, hex: what nodes approve and sign. */
export const grantHash = (grant: Grant): string => sha256Hex(utf8(GRANT_TAG + canonicalJson(grant)));

/** The exact bytes a node's identity key signs for its decision on a grant. */
export function grantDecisionTranscript(d: UnsignedGrantDecision): Uint8Array {
  const { grantId, grantHash: hash, verdict, by, policyHash, rule, reason, decidedAt } = d;
  return utf8(GRANT_DECISION_TAG + canonicalJson({ grantId, grantHash: hash, verdict, by, policyHash, rule, reason, decidedAt }));
}

export const signGrantDecision = (identitySecretKey: string, d: UnsignedGrantDecision): SignedGrantDecision => ({
  ...d,
  signature: identitySign(identitySecretKey, grantDecisionTranscript(d)),
});

export const verifyGrantDecision = (publicKey: string, d: SignedGrantDecision): boolean =>
  identityVerify(publicKey, grantDecisionTranscript(d), d.signature);

/** What an agent's session key signs for one request: the grant, the intent hash, a nonce and a time. */
export interface AgentRequestFields {
  grantId: string;
  intentHash: string;
  nonce: string;
  timestamp: number;
}

/**
 * The text an agent signs for a request (UTF-8): the tag, then the canonical JSON of the four fields.
 * An Ed25519 session key signs these bytes; an `eip191` grantee signs them as an EIP-191 personal message.
 */
export function agentRequestText(f: AgentRequestFields): string {
  return AGENT_REQUEST_TAG + canonicalJson({ grantId: f.grantId, intentHash: f.intentHash, nonce: f.nonce, timestamp: f.timestamp });
}

/** What a node signs when its operator revokes a grant (`grant.revoke`): the kill switch. */
export interface GrantRevocationFields {
  grantId: string;
  grantHash: string;
  reason: string;
  revokedAt: number;
}

/** The exact bytes a node's identity key signs to revoke a grant. */
export function grantRevocationTranscript(f: GrantRevocationFields): Uint8Array {
  return utf8(GRANT_REVOCATION_TAG + canonicalJson({ grantId: f.grantId, grantHash: f.grantHash, reason: f.reason, revokedAt: f.revokedAt }));
}

export const signGrantRevocation = (identitySecretKey: string, f: GrantRevocationFields): string =>
  identitySign(identitySecretKey, grantRevocationTranscript(f));

export const verifyGrantRevocation = (publicKey: string, f: GrantRevocationFields, signature: string): boolean =>
  identityVerify(publicKey, grantRevocationTranscript(f), signature);
