import type { ErrorCode, RefusalCode } from '#protocol';
import type { AttemptRecord, Culprit, CulpritReason } from '../records.js';
import type { RequestState } from './request-state.js';

/**
 * ROAST (Ruffing et al., CCS 2022) over FROST, as pure decisions on a request's state: which signers
 * start the next attempt, whose shares must be checked first, when to wait, when to give up, and what
 * each node frame means for its sender. No database, no clock, no sockets: the caller passes `now` and
 * who is connected, and carries out what comes back (docs/protocol.md §3.4, §5).
 *
 * Every member of the key is, for one request, in exactly one of these states:
 * - excluded (ROAST's marked set M, the request's `culprits`): never asked again;
 * - ready (in R): holds one unused commitment;
 * - owing: one running or ended attempt waits for its answer (share or refusal);
 * - idle: none of these (not asked yet, asked and not answered, or disconnected).
 */

/** One member of the key, as the scheduler sees it. */
export interface SignerView {
  nodeId: string;
  excluded: boolean;
  connected: boolean;
  /** When its ready commitment arrived (ms), if it holds one. */
  readySince?: number;
  /** The attempt it owes an answer, if any. */
  owes?: string;
}

/** A running attempt, as the scheduler sees it. */
export interface RunningAttempt {
  id: string;
  startedAt: number;
  /** When its latest share arrived, or its start. */
  lastProgress: number;
}

export interface RoastView {
  threshold: number;
  signers: SignerView[];
  running: RunningAttempt[];
  /** Shares not judged yet (valid unknown) in attempts that did not complete. */
  unjudged: { attemptId: string; nodeId: string }[];
  /** How long the newest running attempt may go without progress before another starts (0: at once). */
  staggerMs: number;
  now: number;
}

export type Step =
  /** Fewer than t members are not excluded: the request cannot succeed (ROAST: |M| > n - t). */
  | { kind: 'fail' }
  /** Check these shares first: their senders would join the next attempt (keeps the n-t+1 bound). */
  | { kind: 'verify'; shares: { attemptId: string; nodeId: string }[] }
  /** Start an attempt with these signers (node ids, earliest ready first). */
  | { kind: 'start'; signers: string[] }
  /** t signers are ready but the newest running attempt is still making progress: look again at `until`. */
  | { kind: 'wait'; until: number }
  /** Fewer than t signers are ready: wait for commitments. */
  | { kind: 'idle' };

/** Most staggers an attempt gets from its start before another may start beside it, progress or not. */
export const MAX_STAGGERS = 10;

/**
 * What to do next. Attempts start whenever t connected, non-excluded signers are ready, with the t
 * earliest-ready; while one runs, the next waits until the newest running attempt has gone `staggerMs`
 * without a share (and at most MAX_STAGGERS staggers from its start), so a healthy attempt is not doubled
 * and a stalled one is overtaken. A chosen signer whose share in an unfinished attempt has not been
 * judged is checked first, so that a node with a bad share blocks at most one attempt: with t honest
 * signers a request needs at most n-t+1 attempts.
 */
export function nextStep(view: RoastView): Step {
  const eligible = view.signers.filter((s) => !s.excluded);
  if (eligible.length < view.threshold) return { kind: 'fail' };
  const ready = eligible
    .filter((s): s is SignerView & { readySince: number } => s.connected && s.readySince !== undefined)
    .sort((a, b) => a.readySince - b.readySince);
  if (ready.length < view.threshold) return { kind: 'idle' };
  if (view.running.length > 0 && view.staggerMs > 0) {
    const newest = view.running.reduce((a, b) => (b.startedAt > a.startedAt ? b : a));
    const until = Math.min(newest.lastProgress + view.staggerMs, newest.startedAt + MAX_STAGGERS * view.staggerMs);
    if (until > view.now) return { kind: 'wait', until };
  }
  const signers = ready.slice(0, view.threshold).map((s) => s.nodeId);
  const shares = view.unjudged.filter((u) => signers.includes(u.nodeId));
  if (shares.length > 0) return { kind: 'verify', shares };
  return { kind: 'start', signers };
}

/** Members to ask for a commitment: not excluded, connected, neither ready nor owing, not already asked. */
export function proposeTargets(view: Pick<RoastView, 'signers'>, alreadyAsked: (nodeId: string) => boolean): string[] {
  return view.signers.filter((s) => !s.excluded && s.connected && s.readySince === undefined && s.owes === undefined && !alreadyAsked(s.nodeId)).map((s) => s.nodeId);
}

/** A node frame that gets its sender excluded: why (for the record) and the error code it is answered with. */
export interface Misbehaviour {
  culprit: Culprit;
  code: ErrorCode;
}

export type CommitJudgement = { kind: 'accept' } | { kind: 'duplicate' } | ({ kind: 'misbehaviour' } & Misbehaviour);

/**
 * A commitment offered by `signer`, who holds `identifier` in the key. The caller still checks the
 * elements (crypto) and their freshness (the database) when this says accept.
 */
export function judgeCommitment(
  signer: SignerView & { identifier: string; ready?: { hiding: string; binding: string } },
  commitment: { identifier: string; hiding: string; binding: string },
): CommitJudgement {
  const bad = (reason: CulpritReason, code: ErrorCode, detail: string, attemptId?: string): CommitJudgement => ({
    kind: 'misbehaviour',
    culprit: { nodeId: signer.nodeId, reason, detail, ...(attemptId ? { attemptId } : {}) },
    code,
  });
  if (commitment.identifier !== signer.identifier) {
    return bad('invalid_commitment', 'IDENTIFIER_MISMATCH', 'commitment identifier is not the one this node holds in the key');
  }
  if (signer.ready && signer.ready.hiding === commitment.hiding && signer.ready.binding === commitment.binding) return { kind: 'duplicate' };
  // A node is ready with one commitment or owes one attempt an answer: a further commitment is a second
  // nonce offered for the same slot, which only a misbehaving node sends.
  if (signer.owes) return bad('unsolicited_frame', 'COMMITMENT_CONFLICT', `a new commitment while it owes attempt ${signer.owes} a share`, signer.owes);
  if (signer.ready) return bad('unsolicited_frame', 'COMMITMENT_CONFLICT', 'a second commitment while its first is unused');
  return { kind: 'accept' };
}

export type AnswerJudgement =
  | { kind: 'owed'; attempt: AttemptRecord; late: boolean }
  /** Not an attempt of this request: the caller looks elsewhere only to word the reason. */
  | { kind: 'not_found' }
  | ({ kind: 'misbehaviour' } & Misbehaviour);

/**
 * A share or refusal for `attemptId` from `nodeId`: it must answer an attempt of this request that
 * lists the node and still waits for its answer. Anything else is a frame the coordinator never asked
 * for. An answer to an attempt that already ended is `late` but still counts (its next commitment too).
 */
export function judgeAnswer(state: Pick<RequestState, 'attempts' | 'commitments'>, nodeId: string, attemptId: string): AnswerJudgement {
  const attempt = state.attempts.find((a) => a.id === attemptId);
  if (!attempt) return { kind: 'not_found' };
  const unsolicited = (code: ErrorCode, detail: string): AnswerJudgement => ({
    kind: 'misbehaviour',
    culprit: { nodeId, reason: 'unsolicited_frame', detail, attemptId: attempt.id },
    code,
  });
  if (!attempt.participants.includes(nodeId)) return unsolicited('NOT_IN_SIGNER_SET', `an answer for attempt ${attempt.seq}, which it is not in`);
  const owed = state.commitments.some((c) => c.nodeId === nodeId && c.status === 'assigned' && c.attemptId === attempt.id);
  if (!owed) return unsolicited('SHARE_CONFLICT', `a second answer for attempt ${attempt.seq}`);
  return { kind: 'owed', attempt, late: attempt.status !== 'signing' };
}

/** Refusals that say the node lost or already spent its nonce: honest after a restart, not blamed. */
export const BLAMELESS_REFUSALS: readonly RefusalCode[] = ['NONCE_UNKNOWN', 'NONCE_CONSUMED', 'DEADLINE_PASSED'];
/** Blameless refusals one node may make per request before it is blamed (so it cannot stall a request). */
export const MAX_BLAMELESS_REFUSALS = 3;

/** Whether a refusal is excused, given how many blameless ones the node made before in this request. */
export const isBlamelessRefusal = (code: RefusalCode, earlier: number): boolean =>
  BLAMELESS_REFUSALS.includes(code) && earlier < MAX_BLAMELESS_REFUSALS;

/**
 * The running attempts that cannot complete once `culprits` are excluded: those a culprit still owes an
 * answer, and those holding a share of a culprit known to be bad. (One it answered well may still complete.)
 */
export function attemptsEndedBy(view: Pick<RoastView, 'signers' | 'running'>, culprits: readonly Culprit[]): { attemptId: string; culprits: string[] }[] {
  const owes = new Map(view.signers.map((s) => [s.nodeId, s.owes]));
  const blocks = (attemptId: string, c: Culprit) =>
    owes.get(c.nodeId) === attemptId || (c.attemptId === attemptId && (c.reason === 'invalid_share' || c.reason === 'malformed_share'));
  return view.running
    .map((a) => ({ attemptId: a.id, culprits: culprits.filter((c) => blocks(a.id, c)).map((c) => c.nodeId) }))
    .filter((a) => a.culprits.length > 0);
}

/** Members not excluded that never committed, or that still owe an attempt their answer. */
export function neverAnswered(view: Pick<RoastView, 'signers'>, attempts: readonly Pick<AttemptRecord, 'participants'>[]): string[] {
  return view.signers
    .filter((s) => !s.excluded)
    .filter((s) => s.owes !== undefined || (s.readySince === undefined && !attempts.some((a) => a.participants.includes(s.nodeId))))
    .map((s) => s.nodeId);
}
