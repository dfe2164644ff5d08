/**
 * The exact bytes signed or hashed in a ceremony. Canonical JSON (sorted keys, no whitespace) of plain
 * strings and integers, domain-tagged, so every participant computes the same bytes.
 */
import type { CeremonyParticipant, Round1Package, SignedRound1 } from './ceremony-frames.js';

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Signed by a participant with its identity key: binds its round-1 package to this ceremony. */
export function ceremonyRound1Transcript(ceremonyId: string, pkg: Round1Package): Uint8Array {
  return utf8(`roundtable/v1/dkg-round1\n${canonical({ ceremonyId, package: pkg })}`);
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
  return utf8(`roundtable/v1/dkg-transcript\n${canonical(params)}`);
}

/** Signed by a participant with its identity key: what it derived in round 3. */
export function ceremonyResultTranscript(params: {
  ceremonyId: string;
  keyId: string;
  groupPublicKey: string;
  commitments: string[];
  verifyingShares: Record<string, string>;
}): Uint8Array {
  return utf8(`roundtable/v1/dkg-result\n${canonical(params)}`);
}

/** Associated data of a sealed round-2 share: ceremony, sender and recipient. */
export function round2AssociatedData(ceremonyId: string, from: string, to: string, recipientIdentityKey: string): Uint8Array {
  return utf8(`roundtable/v1/dkg-round2\n${canonical({ ceremonyId, from, to, recipientIdentityKey })}`);
}
