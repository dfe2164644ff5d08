import { randomUUID } from 'node:crypto';
import { aggregateOrBlame, canonicalJson, hexToBytes, sha256Hex, sortCommitments, verifySignatureShare, type AggregateResult, type CommitmentHex } from '#crypto';
import { evmReleaseProblem } from '#evm';
import { SYSTEM_ACTOR } from '../common/tokens.js';
import type { AttemptRecord, AttemptStatus, Culprit, ShareRecord } from '../records.js';
import type { RequestEvent } from './request-event.js';

/**
 * The steps of an event that concern attempts: starting one, taking a share, judging shares, ending an
 * attempt, completing the request. Each changes the event's state and the database together.
 */

/** Reasons in frames are bounded by the protocol's schemas. */
export const reasonText = (text: string): string => (text.length <= 500 ? text : `${text.slice(0, 497)}...`);

/** Starts an attempt with the ready commitments of `nodeIds`, its list sorted by identifier value. */
export async function startAttempt(ev: RequestEvent, nodeIds: readonly string[]): Promise<AttemptRecord> {
  const { state } = ev;
  const chosen = nodeIds.map((nodeId) => state.commitments.find((c) => c.nodeId === nodeId && c.status === 'ready')!);
  const sorted = sortCommitments(state.key.suite, chosen);
  const attempt: AttemptRecord = {
    id: randomUUID(),
    requestId: state.request.id,
    seq: state.request.attemptCount + 1,
    status: 'signing',
    participants: sorted.map((c) => c.nodeId),
    commitments: sorted.map(({ identifier, hiding, binding }): CommitmentHex => ({ identifier, hiding, binding })),
    // ROAST needs no per-attempt timeout: a stalled attempt is overtaken by the next one.
    deadline: state.request.deadline,
    startedAt: ev.now,
    endedAt: null,
    failureReason: null,
  };
  await ev.tx.attempts.insert(attempt);
  await ev.tx.commitments.assign(state.request.id, sorted.map((c) => c.id), attempt.id);
  for (const c of sorted) Object.assign(c, { status: 'assigned', attemptId: attempt.id });
  state.attempts.push(attempt);
  ev.update({ status: 'signing', attemptCount: attempt.seq });
  ev.audit(SYSTEM_ACTOR, 'attempt.started', 'success', {
    seq: attempt.seq,
    participants: attempt.participants,
    commitmentListHash: sha256Hex(canonicalJson(attempt.commitments)),
    deadline: attempt.deadline.toISOString(),
  }, { attemptId: attempt.id });
  for (const nodeId of attempt.participants) ev.send(nodeId, packageFrame(ev, attempt));
  return attempt;
}

export function packageFrame(ev: RequestEvent, attempt: AttemptRecord) {
  return {
    type: 'attempt.package' as const,
    requestId: ev.state.request.id,
    attemptId: attempt.id,
    keyId: ev.state.request.keyId,
    message: ev.state.request.message,
    commitments: attempt.commitments,
    deadline: attempt.deadline.getTime(),
  };
}

/** Stores a node's share for the attempt it owed; its commitment there is used. */
export async function recordShare(ev: RequestEvent, nodeId: string, attempt: AttemptRecord, shareHex: string): Promise<void> {
  const { state } = ev;
  const member = state.key.members.find((m) => m.nodeId === nodeId)!;
  const share: ShareRecord = {
    attemptId: attempt.id,
    requestId: state.request.id,
    nodeId,
    identifier: member.identifier,
    share: shareHex,
    valid: null,
    receivedAt: ev.now,
  };
  await ev.tx.shares.insert(share);
  await ev.tx.commitments.markUsed(state.request.id, attempt.id, nodeId);
  state.shares.push(share);
  state.commitments = state.commitments.filter((c) => !(c.nodeId === nodeId && c.attemptId === attempt.id));
  ev.audit({ kind: 'node', id: nodeId }, 'share.received', 'success', {
    identifier: member.identifier,
    shareHash: sha256Hex(shareHex),
    ...(attempt.status !== 'signing' ? { attemptStatus: attempt.status } : {}),
  }, { attemptId: attempt.id, nodeId });
}

/** The shares received so far for the attempt. */
export const sharesOf = (ev: RequestEvent, attemptId: string): ShareRecord[] => ev.state.shares.filter((s) => s.attemptId === attemptId);

async function setValidity(ev: RequestEvent, share: ShareRecord, valid: boolean): Promise<void> {
  await ev.tx.shares.setValidity(share.requestId, share.attemptId, share.nodeId, valid);
  share.valid = valid;
}

function rejected(ev: RequestEvent, share: ShareRecord, reason: 'invalid_share' | 'malformed_share'): Culprit {
  ev.audit(SYSTEM_ACTOR, 'share.rejected', 'failure', { culprit: share.nodeId, reason, identifier: share.identifier, shareHash: sha256Hex(share.share) }, {
    attemptId: share.attemptId,
    nodeId: share.nodeId,
  });
  return { nodeId: share.nodeId, reason, attemptId: share.attemptId };
}

/** Verifies shares one by one (RFC 9591 §5.4) and records each verdict; returns the senders of invalid ones. */
export async function judgeShares(ev: RequestEvent, which: readonly { attemptId: string; nodeId: string }[]): Promise<Culprit[]> {
  const message = hexToBytes(ev.state.request.message);
  const culprits: Culprit[] = [];
  for (const w of which) {
    const share = ev.state.shares.find((s) => s.attemptId === w.attemptId && s.nodeId === w.nodeId)!;
    const attempt = ev.state.attempts.find((a) => a.id === w.attemptId)!;
    const valid = verifySignatureShare(ev.state.key.publicPackage, attempt.commitments, message, share.identifier, share.share);
    await setValidity(ev, share, valid);
    if (!valid) culprits.push(rejected(ev, share, 'invalid_share'));
  }
  return culprits;
}

/**
 * Aggregates and verifies, then refuses to release what a contract must never see: a `secp256k1`
 * signature with z = 0 (issue 12). The shares were all valid, so no one is to blame: the attempt fails
 * without culprits and ROAST starts another with fresh nonces, as after any blameless failure.
 */
export function aggregateForRelease(aggregate: typeof aggregateOrBlame, ...args: Parameters<typeof aggregateOrBlame>): AggregateResult {
  const result = aggregate(...args);
  if (!result.ok) return result;
  const problem = evmReleaseProblem(args[0].suite, result.signature);
  return problem === null ? result : { ok: false, culprits: [], message: `signature not released: ${problem}` };
}

/**
 * Every share of the attempt is in: aggregate and verify once (the optimistic path); on success the
 * request completes. Otherwise every culprit is named (the caller excludes them) and the attempt fails.
 * `aggregate` is the crypto library's, replaced only by unit tests that need an outcome no real
 * shares can produce (z = 0).
 */
export async function finishAttempt(
  ev: RequestEvent,
  attempt: AttemptRecord,
  aggregate: typeof aggregateOrBlame = aggregateOrBlame,
): Promise<{ completed: true } | { completed: false; culprits: Culprit[] }> {
  const { state } = ev;
  const shares = sharesOf(ev, attempt.id);
  const byIdentifier = Object.fromEntries(shares.map((s) => [s.identifier, s.share]));
  const result = aggregateForRelease(aggregate, state.key.publicPackage, attempt.commitments, hexToBytes(state.request.message), byIdentifier);
  if (result.ok) {
    for (const s of shares) await setValidity(ev, s, true);
    await setAttemptStatus(ev, attempt, 'completed', null);
    for (const other of state.attempts.filter((a) => a.status === 'signing')) {
      await setAttemptStatus(ev, other, 'aborted', `attempt ${attempt.seq} completed the request`);
    }
    await ev.tx.commitments.burnForRequest(state.request.id);
    state.commitments = [];
    ev.update({ status: 'completed', signature: result.signature, completedAt: ev.now });
    ev.audit(SYSTEM_ACTOR, 'signature.produced', 'success', {
      signature: result.signature,
      groupPublicKey: state.key.groupPublicKey,
      messageHash: sha256Hex(hexToBytes(state.request.message)),
      attempts: state.request.attemptCount,
    }, { attemptId: attempt.id });
    closeRequest(ev, 'completed');
    return { completed: true };
  }
  const bad = new Map(result.culprits.map((c) => [c.identifier, c.reason]));
  const culprits: Culprit[] = [];
  for (const s of shares) {
    const reason = bad.get(s.identifier);
    await setValidity(ev, s, reason === undefined);
    if (reason) culprits.push(rejected(ev, s, reason));
  }
  await endAttempt(ev, attempt, 'failed', result.message, culprits.map((c) => c.nodeId));
  return { completed: false, culprits };
}

async function setAttemptStatus(ev: RequestEvent, attempt: AttemptRecord, status: AttemptStatus, failureReason: string | null): Promise<void> {
  await ev.tx.attempts.update(ev.state.request.id, attempt.id, { status, endedAt: ev.now, ...(failureReason !== null ? { failureReason } : {}) });
  Object.assign(attempt, { status, endedAt: ev.now, ...(failureReason !== null ? { failureReason } : {}) });
}

/**
 * Ends a running attempt (its members who still owe an answer keep owing it: a late answer still
 * counts), audits it and tells its participants but `skip` to burn their nonces.
 */
export async function endAttempt(ev: RequestEvent, attempt: AttemptRecord, status: 'failed' | 'aborted', reason: string, skip: readonly string[] = []): Promise<void> {
  await setAttemptStatus(ev, attempt, status, reason);
  if (!ev.state.attempts.some((a) => a.status === 'signing') && ev.state.request.status === 'signing') ev.update({ status: 'committing' });
  ev.audit(SYSTEM_ACTOR, 'attempt.failed', 'failure', { reason, seq: attempt.seq, status }, { attemptId: attempt.id });
  for (const p of attempt.participants) {
    if (!skip.includes(p)) ev.send(p, { type: 'attempt.abort', requestId: ev.requestId, attemptId: attempt.id, reason: reasonText(reason) });
  }
}

/** Tells every member the request is over; once committed, stops its timers and wakes its long-polls. */
export function closeRequest(ev: RequestEvent, status: 'completed' | 'failed' | 'expired' | 'cancelled', reason?: string): void {
  const requestId = ev.requestId;
  for (const m of ev.state.key.members) {
    ev.send(m.nodeId, { type: 'request.closed', requestId, status, ...(reason ? { reason: reasonText(reason) } : {}) });
  }
  ev.closing();
  ev.afterCommit(() => {
    ev.ctx.timers.clear(`request:${requestId}`);
    ev.ctx.timers.clear(`stagger:${requestId}`);
    ev.ctx.settled.emit(requestId);
  });
}
