/**
 * The exact bytes signed or hashed in a key generation ceremony (docs/protocol.md §13.3): a domain tag
 * and a newline, then the canonical JSON (`canonicalJson`) of plain strings and integers, so that every
 * participant and the coordinator compute the same bytes.
 */
import type { CeremonyParticipant, Round1Package, SignedRound1 } from '#protocol';
import { utf8 } from './encoding.js';
import { canonicalJson } from './hashing.js';

const tagged = (tag: string, value: unknown): Uint8Array => utf8(`roundtable/v1/${tag}\n${canonicalJson(value)}`);

/** Signed by a participant with its identity key: binds its round-1 package to this ceremony. */
export function ceremonyRound1Transcript(ceremonyId: string, pkg: Round1Package): Uint8Array {
  return tagged('dkg-round1', { ceremonyId, package: pkg });
}

/** Hashed by every participant before round 3: the whole round-1 view, which must be identical for all. */
export function ceremonyTranscript(params: {
  ceremonyId: string;
  keyId: string;
  suite: string;
  threshold: number;
  participants: CeremonyParticipant[];
  round1: SignedRound1[];
}): Uint8Array {
  return tagged('dkg-transcript', params);
}

/**
 * Signed by a participant with its identity key in `ceremony.round2`: the transcript hash it computed.
 * Every participant gets all n of these in `ceremony.round2.all` and goes on only if all are equal to its
 * own, so a coordinator cannot show two participants different round-1 sets without one of them noticing.
 */
export function ceremonyAgreementTranscript(params: { ceremonyId: string; identifier: string; transcriptHash: string }): Uint8Array {
  return tagged('dkg-agreement', params);
}

/** Signed by a participant with its identity key: what it derived in round 3. */
export function ceremonyResultTranscript(params: {
  ceremonyId: string;
  keyId: string;
  groupPublicKey: string;
  commitments: string[];
  verifyingShares: Record<string, string>;
}): Uint8Array {
  return tagged('dkg-result', params);
}

/** Associated data of a sealed round-2 share: ceremony, sender and recipient. */
export function round2AssociatedData(ceremonyId: string, from: string, to: string, recipientIdentityKey: string): Uint8Array {
  return tagged('dkg-round2', { ceremonyId, from, to, recipientIdentityKey });
}
