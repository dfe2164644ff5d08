import type { DKG_Round1 } from '@noble/curves/abstract/frost.js';
import {
  canonicalJson,
  ceremonyAgreementTranscript,
  ceremonyRound1Transcript,
  getSuite,
  hexToBytes,
  identityVerify,
  isValidIdentityKey,
  type Suite,
} from '#crypto';
import type { CeremonyParticipant, CeremonyStartFrame, Round1Package, SealedRound2, SignedRound1, SignedTranscriptHash } from '#protocol';
import { abort } from './ceremony-abort.js';

/**
 * The checks a participant makes on each coordinator frame before it uses it, in a fixed order; each
 * failure throws the CeremonyAbortError its `ceremony.abort` carries (docs/protocol.md §13.5, §13.8).
 * Pure: no keystore, no clock but the one passed in.
 */

/** `ceremony.start`: sane parameters (threshold, deadline, identifiers, identity keys, node ids). */
export function checkParameters(frame: CeremonyStartFrame, now: number): void {
  const n = frame.participants.length;
  if (frame.threshold < 2 || frame.threshold > n) abort('PARAMETERS_REFUSED', `threshold ${frame.threshold} is outside [2, ${n}]`);
  if (frame.deadline <= now) abort('PARAMETERS_REFUSED', 'the ceremony deadline has already passed');
  const suite = getSuite(frame.suite);
  const ids = new Set<bigint>();
  const keys = new Set<string>();
  const nodeIds = new Set<string>();
  for (const p of frame.participants) {
    let value: bigint;
    try {
      if (p.identifier.length !== suite.identifierBytes * 2) throw new Error('wrong size');
      value = suite.identifierValue(p.identifier);
      suite.assertScalar(p.identifier, 'identifier');
    } catch {
      return abort('PARAMETERS_REFUSED', `identifier ${p.identifier} is not valid for ${suite.id}`);
    }
    if (value === 0n) abort('PARAMETERS_REFUSED', 'identifier zero is not allowed');
    if (ids.has(value)) abort('PARAMETERS_REFUSED', `identifier ${p.identifier} appears twice`);
    if (keys.has(p.identityKey)) abort('PARAMETERS_REFUSED', `identity key ${p.identityKey} appears twice`);
    if (nodeIds.has(p.nodeId)) abort('PARAMETERS_REFUSED', `node ${p.nodeId} appears twice`);
    if (!isValidIdentityKey(p.identityKey)) abort('PARAMETERS_REFUSED', `identity key ${p.identityKey} is not a valid Ed25519 key`);
    ids.add(value);
    keys.add(p.identityKey);
    nodeIds.add(p.nodeId);
  }
}

/** Exactly one entry per participant, by identifier: none from a stranger, none twice, none missing. */
function checkOnePerParticipant(participants: readonly CeremonyParticipant[], identifiers: readonly string[], what: string): void {
  const known = new Set(participants.map((p) => p.identifier));
  const seen = new Set<string>();
  for (const id of identifiers) {
    if (!known.has(id)) abort('TRANSCRIPT_MISMATCH', `${what} names ${id}, who is not a participant`);
    if (seen.has(id)) abort('TRANSCRIPT_MISMATCH', `${what} has two entries from ${id}`);
    seen.add(id);
  }
  const missing = participants.filter((p) => !seen.has(p.identifier));
  if (missing.length > 0) abort('TRANSCRIPT_MISMATCH', `${what} lacks the entries of ${missing.map((p) => p.identifier).join(', ')}`);
}

/**
 * `ceremony.round1.all`: one package per participant, this node's own unaltered, each signed by its
 * participant's identity key for this ceremony, each commitment `threshold` valid elements.
 */
export function checkRound1Set(params: {
  ceremonyId: string;
  suite: Suite;
  threshold: number;
  participants: readonly CeremonyParticipant[];
  own: SignedRound1;
  packages: readonly SignedRound1[];
}): void {
  const { ceremonyId, suite, threshold, participants, own, packages } = params;
  checkOnePerParticipant(
    participants,
    packages.map((s) => s.package.identifier),
    'round 1',
  );
  const mine = packages.find((s) => s.package.identifier === own.package.identifier)!;
  if (canonicalJson(mine) !== canonicalJson(own)) abort('TRANSCRIPT_MISMATCH', "round 1 carries an altered copy of this node's own package");
  const byId = new Map(participants.map((p) => [p.identifier, p]));
  for (const signed of packages) {
    const entry = byId.get(signed.package.identifier)!;
    if (!identityVerify(entry.identityKey, ceremonyRound1Transcript(ceremonyId, signed.package), signed.signature)) {
      abort('BAD_SIGNATURE', `the round-1 package of ${entry.identifier} is not signed by its identity key for this ceremony`, entry.identifier);
    }
  }
  for (const { package: pkg } of packages) {
    if (pkg.commitment.length !== threshold) {
      abort('BAD_PROOF', `the commitment of ${pkg.identifier} has ${pkg.commitment.length} elements, not ${threshold}`, pkg.identifier);
    }
    try {
      pkg.commitment.forEach((c, i) => suite.assertElement(c, `commitment[${i}]`));
    } catch (e) {
      abort('BAD_PROOF', `the commitment of ${pkg.identifier} is invalid: ${(e as Error).message}`, pkg.identifier);
    }
  }
}

/**
 * `ceremony.round2.all`: every participant's transcript hash, each signed by its identity key for this
 * ceremony, each equal to this node's own. This is what stops a split view: a coordinator that showed two
 * participants different round-1 sets cannot show either of them the other's hash as equal to its own.
 */
export function checkTranscripts(params: {
  ceremonyId: string;
  participants: readonly CeremonyParticipant[];
  ownHash: string;
  agreedHash: string;
  transcripts: readonly SignedTranscriptHash[];
}): void {
  const { ceremonyId, participants, ownHash, agreedHash, transcripts } = params;
  checkOnePerParticipant(
    participants,
    transcripts.map((t) => t.identifier),
    'the signed transcript hashes',
  );
  const byId = new Map(participants.map((p) => [p.identifier, p]));
  for (const t of transcripts) {
    const entry = byId.get(t.identifier)!;
    const statement = ceremonyAgreementTranscript({ ceremonyId, identifier: t.identifier, transcriptHash: t.transcriptHash });
    if (!identityVerify(entry.identityKey, statement, t.signature)) {
      abort('BAD_SIGNATURE', `the transcript hash of ${t.identifier} is not signed by its identity key for this ceremony`, t.identifier);
    }
    if (t.transcriptHash !== ownHash) {
      abort('TRANSCRIPT_MISMATCH', `${t.identifier} saw another round-1 set: its transcript hash ${t.transcriptHash} is not this node's ${ownHash}`, t.identifier);
    }
  }
  if (agreedHash !== ownHash) abort('TRANSCRIPT_MISMATCH', `the agreed transcript hash ${agreedHash} is not this node's ${ownHash}`);
}

/** The shares of `ceremony.round2.all`: each addressed to `me`, from another participant, one per sender; by sender. */
export function sharesBySender(participants: readonly CeremonyParticipant[], me: string, shares: readonly SealedRound2[]): Map<string, SealedRound2> {
  const known = new Set(participants.map((p) => p.identifier));
  const received = new Map<string, SealedRound2>();
  for (const share of shares) {
    if (share.to !== me) abort('UNDECRYPTABLE_SHARE', `a share addressed to ${share.to} was relayed to this node`);
    if (share.from === me || !known.has(share.from)) abort('UNDECRYPTABLE_SHARE', `a share claims to come from ${share.from}, not another participant`);
    if (received.has(share.from)) abort('UNDECRYPTABLE_SHARE', `two shares from ${share.from}`, share.from);
    received.set(share.from, share);
  }
  return received;
}

export const toNobleRound1 = (pkg: Round1Package): DKG_Round1 => ({
  identifier: pkg.identifier,
  commitment: pkg.commitment.map(hexToBytes),
  proofOfKnowledge: hexToBytes(pkg.proofOfKnowledge),
});
