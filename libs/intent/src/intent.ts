import { hashMessage } from 'viem';
import { bytesToHex, canonicalJson, hexToBytes, identitySign, identityVerify, sha256Hex, utf8 } from '#crypto';
import { INTENT_VERSION, MAX_INTENT_BYTES, MAX_MESSAGE_BYTES, type Intent, type Payload, type SignedDecision, type UnsignedDecision } from '#protocol';
import { IntentError } from './intent-error.js';
import { eip712Hashes } from './typed-data.js';

/** Domain separation tags: a hash or signature made for one purpose never verifies for another. */
const INTENT_TAG = `roundtable/intent/v${INTENT_VERSION}\n`;
const DECISION_TAG = 'roundtable/decision/v1\n';

/**
 * The bytes FROST signs for a payload, derived from it and from nothing else:
 * `text` its UTF-8 bytes; `bytes` the bytes; `eip191` personal_sign's keccak256("\x19Ethereum Signed
 * Message:\n" + length + message); `eip712` the typed data's EIP-712 hash; `digest` the 32 bytes given.
 * Throws IntentError when the payload has no such bytes (bad typed data, an oversized message).
 */
export function signedBytes(payload: Payload): Uint8Array {
  switch (payload.kind) {
    case 'text': {
      const bytes = utf8(payload.text);
      if (bytes.length > MAX_MESSAGE_BYTES) throw new IntentError(`text is ${bytes.length} bytes in UTF-8; at most ${MAX_MESSAGE_BYTES}`);
      return bytes;
    }
    case 'bytes':
      return hexToBytes(payload.hex);
    case 'eip191': {
      const m = payload.message;
      if (typeof m === 'string' && utf8(m).length > MAX_MESSAGE_BYTES) throw new IntentError(`message is more than ${MAX_MESSAGE_BYTES} bytes`);
      return hexToBytes(hashMessage(typeof m === 'string' ? m : { raw: m.hex as `0x${string}` }).slice(2));
    }
    case 'eip712':
      return hexToBytes(eip712Hashes(payload.typedData).digest.slice(2));
    case 'digest':
      return hexToBytes(payload.hex);
  }
}

/** `signedBytes` as lower-case hex. */
export const digestHex = (payload: Payload): string => bytesToHex(signedBytes(payload));

/** The intent's canonical encoding: domain-separated, versioned, every field included. */
export function intentBytes(intent: Intent): Uint8Array {
  const bytes = utf8(INTENT_TAG + canonicalJson(intent));
  if (bytes.length > MAX_INTENT_BYTES + INTENT_TAG.length) throw new IntentError(`the intent is larger than ${MAX_INTENT_BYTES} bytes`);
  return bytes;
}

/** SHA-256 of the intent's canonical encoding, hex: what requests are keyed by and decisions sign. */
export const intentHash = (intent: Intent): string => sha256Hex(intentBytes(intent));

/** The exact bytes a node's identity key signs for a decision. */
export function decisionTranscript(d: UnsignedDecision): Uint8Array {
  const { requestId, intentHash, verdict, by, policyHash, rule, reason, decidedAt } = d;
  return utf8(DECISION_TAG + canonicalJson({ requestId, intentHash, verdict, by, policyHash, rule, reason, decidedAt }));
}

export const signDecision = (identitySecretKey: string, d: UnsignedDecision): SignedDecision => ({
  ...d,
  signature: identitySign(identitySecretKey, decisionTranscript(d)),
});

/** True when `d` is signed by the identity key `publicKey`. */
export const verifyDecision = (publicKey: string, d: SignedDecision): boolean =>
  identityVerify(publicKey, decisionTranscript(d), d.signature);

/** True when the payload's bytes are a hash an operator cannot read the content of. */
export const isBlind = (payload: Payload): boolean => payload.kind === 'digest';
