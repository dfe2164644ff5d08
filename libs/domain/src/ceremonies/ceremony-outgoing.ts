import { compareIdentifiers } from '#crypto';
import type {
  CeremonyClosedFrame,
  CeremonyRound1AllFrame,
  CeremonyRound2AllFrame,
  CeremonyStartFrame,
  Outgoing,
  SignedTranscriptHash,
} from '#protocol';
import type { CeremonyRecord, CeremonyResultRecord, CeremonyShareRecord, KeyRecord } from '../records.js';
import { sortRound1 } from './ceremony-rules.js';

/**
 * The frames the coordinator sends in a ceremony, built from what it stored: the same function builds a
 * frame when the round opens and when it is sent again (a node reconnects, or asks how the ceremony ended),
 * so a resent frame is the frame. Pure.
 */

const reasonText = (text: string): string => (text.length <= 500 ? text : `${text.slice(0, 497)}...`);

export function startFrame(c: CeremonyRecord): Outgoing<CeremonyStartFrame> {
  const { id: ceremonyId, keyId, suite, threshold, participants } = c;
  return { type: 'ceremony.start', ceremonyId, keyId, suite, threshold, participants, deadline: c.deadline.getTime() };
}

export function round1AllFrame(c: CeremonyRecord): Outgoing<CeremonyRound1AllFrame> {
  return { type: 'ceremony.round1.all', ceremonyId: c.id, packages: sortRound1(c.suite, Object.values(c.round1)), deadline: c.deadline.getTime() };
}

/**
 * Every sender's signed transcript hash (one per sender, from its share rows), sorted by identifier value.
 * A row stored before migration 0003 has no signature: its sender is left out, and the nodes refuse the frame.
 */
export function signedTranscripts(c: Pick<CeremonyRecord, 'suite'>, shares: readonly CeremonyShareRecord[]): SignedTranscriptHash[] {
  const bySender = new Map<string, SignedTranscriptHash>();
  for (const s of shares) {
    if (s.transcriptSignature === null || bySender.has(s.fromIdentifier)) continue;
    bySender.set(s.fromIdentifier, { identifier: s.fromIdentifier, transcriptHash: s.transcriptHash, signature: s.transcriptSignature });
  }
  return [...bySender.values()].sort((a, b) => compareIdentifiers(c.suite, a.identifier, b.identifier));
}

/** Round 3 for participant `to`: the agreed hash, everyone's signed hash, the shares sealed to `to` (by sender identifier value). */
export function round2AllFrame(c: CeremonyRecord, shares: readonly CeremonyShareRecord[], to: string): Outgoing<CeremonyRound2AllFrame> {
  const mine = shares
    .filter((s) => s.toIdentifier === to)
    .sort((a, b) => compareIdentifiers(c.suite, a.fromIdentifier, b.fromIdentifier))
    .map((s) => s.sealed);
  return {
    type: 'ceremony.round2.all',
    ceremonyId: c.id,
    transcriptHash: c.transcriptHash!,
    transcripts: signedTranscripts(c, shares),
    shares: mine,
    deadline: c.deadline.getTime(),
  };
}

/**
 * `ceremony.closed` for a completed ceremony: the key as registered and every participant's result
 * signature (they all signed the same result, so it is sent once), by identifier value.
 */
export function completedFrame(
  c: Pick<CeremonyRecord, 'id' | 'suite' | 'participants'>,
  key: Pick<KeyRecord, 'id' | 'groupPublicKey' | 'publicPackage'>,
  results: readonly CeremonyResultRecord[],
): Outgoing<CeremonyClosedFrame> {
  const signatures = c.participants
    .flatMap((p) => {
      const r = results.find((x) => x.nodeId === p.nodeId);
      return r ? [{ identifier: p.identifier, signature: r.result.signature }] : [];
    })
    .sort((a, b) => compareIdentifiers(c.suite, a.identifier, b.identifier));
  return {
    type: 'ceremony.closed',
    ceremonyId: c.id,
    status: 'completed',
    keyId: key.id,
    groupPublicKey: key.groupPublicKey,
    commitments: key.publicPackage.commitments,
    verifyingShares: key.publicPackage.verifyingShares,
    resultSignatures: signatures,
  };
}

export function failedFrame(c: Pick<CeremonyRecord, 'id' | 'failureCode' | 'failureReason'>): Outgoing<CeremonyClosedFrame> {
  return { type: 'ceremony.closed', ceremonyId: c.id, status: 'failed', reason: reasonText(`${c.failureCode ?? 'FAILED'}: ${c.failureReason ?? ''}`) };
}
