import { randomUUID } from 'node:crypto';
import { assertValidCommitment, CryptoValidationError, sha256Hex } from '#crypto';
import type { NonceCommitment } from '#protocol';
import { proposedFields } from '../common/node-decisions.js';
import { SYSTEM_ACTOR, type Actor } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { CommitmentReusedError } from '../ports.js';
import { isTerminalRequest, type AuditAction, type CommitmentRecord, type Culprit } from '../records.js';
import { closeRequest, endAttempt, finishAttempt, judgeShares, sharesOf, startAttempt } from './attempt-steps.js';
import type { RequestEvent } from './request-event.js';
import { describeNode, signerView } from './request-state.js';
import { attemptsEndedBy, judgeCommitment, neverAnswered, nextStep, proposeTargets, type Misbehaviour } from './roast.js';

/**
 * The steps of an event that concern the request as a whole: commitments offered, exclusions (ROAST's
 * mark), proposals, the scheduling loop, and ending the request without a signature.
 */

export const commitmentHash = (c: { hiding: string; binding: string }): string => sha256Hex(`${c.hiding}${c.binding}`);

/**
 * A commitment from `nodeId` that would make it ready (ROAST's R): checked against the node's state,
 * then its elements, then their freshness (the database: each nonce element once per key, in either
 * position). Returns what the caller must do with a misbehaving sender instead of excluding it here.
 */
export async function offerCommitment(ev: RequestEvent, nodeId: string, c: NonceCommitment): Promise<'accepted' | 'duplicate' | Misbehaviour> {
  const { state } = ev;
  const member = state.key.members.find((m) => m.nodeId === nodeId)!;
  const signer = signerView(state, nodeId, ev.connected(nodeId));
  const ready = state.commitments.find((x) => x.nodeId === nodeId && x.status === 'ready');
  const judged = judgeCommitment({ ...signer, identifier: member.identifier, ...(ready ? { ready } : {}) }, c);
  if (judged.kind !== 'accept') return judged.kind === 'duplicate' ? 'duplicate' : judged;
  const bad = (reason: 'invalid_commitment' | 'reused_commitment', code: 'COMMITMENT_INVALID' | 'COMMITMENT_REUSED', detail: string): Misbehaviour => ({
    culprit: { nodeId, reason, detail },
    code,
  });
  try {
    assertValidCommitment(state.key.publicPackage, c);
  } catch (e) {
    if (e instanceof CryptoValidationError) return bad('invalid_commitment', 'COMMITMENT_INVALID', e.message);
    throw e;
  }
  const record: CommitmentRecord = {
    id: randomUUID(),
    keyId: state.key.id,
    requestId: state.request.id,
    nodeId,
    identifier: c.identifier,
    hiding: c.hiding,
    binding: c.binding,
    status: 'ready',
    attemptId: null,
    receivedAt: ev.now,
  };
  try {
    await ev.tx.commitments.insert(record);
  } catch (e) {
    if (e instanceof CommitmentReusedError) {
      return bad('reused_commitment', 'COMMITMENT_REUSED', `nonce commitment ${commitmentHash(c)} reuses an element already used with this key`);
    }
    throw e;
  }
  state.commitments.push(record);
  if (state.request.status === 'pending') ev.update({ status: 'committing' });
  ev.audit({ kind: 'node', id: nodeId }, 'commitment.received', 'success', { identifier: c.identifier, commitmentHash: commitmentHash(c) }, { nodeId });
  ev.clearAsked(nodeId);
  return 'accepted';
}

/** Excludes the sender of a frame it should not have sent; the frame is answered with the error once committed. */
export async function misbehaved(ev: RequestEvent, m: Misbehaviour): Promise<void> {
  await exclude(ev, [m.culprit]);
  ev.reject(new DomainError(m.code, `excluded from request ${ev.requestId}: ${m.culprit.detail ?? m.culprit.reason}`));
}

/**
 * ROAST's mark(i), for several nodes at once: each is excluded from the request for good, its live
 * commitments burn, and every running attempt that cannot complete any more because of it ends.
 */
export async function exclude(ev: RequestEvent, culprits: readonly Culprit[]): Promise<void> {
  const { state } = ev;
  if (isTerminalRequest(state.request.status)) return;
  const already = new Set(state.request.culprits.map((c) => c.nodeId));
  const fresh = culprits.filter((c, i) => !already.has(c.nodeId) && culprits.findIndex((d) => d.nodeId === c.nodeId) === i);
  if (fresh.length === 0) return;
  const ended = attemptsEndedBy(ev.view(), fresh);
  const freshIds = fresh.map((c) => c.nodeId);
  for (const nodeId of freshIds) await ev.tx.commitments.burnForRequest(state.request.id, nodeId);
  state.commitments = state.commitments.filter((c) => !freshIds.includes(c.nodeId));
  ev.update({ culprits: [...state.request.culprits, ...fresh] });
  for (const e of ended) {
    const attempt = state.attempts.find((a) => a.id === e.attemptId)!;
    const who = e.culprits.map((id) => describeNode(state, id)).join(', ');
    await endAttempt(ev, attempt, 'failed', `excluded signer(s) in this attempt: ${who}`, freshIds);
  }
  for (const c of fresh) {
    ev.audit(SYSTEM_ACTOR, 'signer.excluded', 'failure', {
      reason: c.reason,
      detail: c.detail ?? null,
      endedAttempts: ended.filter((e) => e.culprits.includes(c.nodeId)).map((e) => e.attemptId),
    }, { attemptId: c.attemptId ?? null, nodeId: c.nodeId });
    ev.clearAsked(c.nodeId);
  }
}

/**
 * Asks idle, connected members for a commitment, once per connection (request_asks: whichever instance
 * runs the event); each node's first proposal is recorded (request_decisions) for the request's view.
 */
export async function propose(ev: RequestEvent): Promise<void> {
  const { state } = ev;
  const { intentHash } = state.request;
  // A request from before intents (no intent hash) is never proposed: nodes could not check it.
  if (isTerminalRequest(state.request.status) || intentHash === null) return;
  const targets = proposeTargets(ev.view(), (nodeId) => {
    const c = ev.connectionOf(nodeId);
    return c !== null && state.asked.get(nodeId) === c;
  });
  if (targets.length === 0) return;
  if (state.request.status === 'pending') ev.update({ status: 'committing' });
  await ev.tx.decisions.markProposed(state.request.id, targets, ev.now);
  for (const nodeId of targets) if (!state.decisions.has(nodeId)) state.decisions.set(nodeId, { requestId: state.request.id, ...proposedFields(nodeId, ev.now) });
  ev.audit(SYSTEM_ACTOR, 'request.proposed', 'success', { nodes: targets });
  for (const nodeId of targets) {
    const c = ev.connectionOf(nodeId);
    if (c) ev.markAsked(nodeId, c);
    ev.send(nodeId, {
      type: 'request.propose',
      requestId: state.request.id,
      suite: state.key.suite,
      threshold: state.key.threshold,
      intent: state.request.intent,
      intentHash,
      ...(state.grant ? { grant: state.grant } : {}),
    });
  }
}

/**
 * After any change: ask idle members for commitments, then run the scheduler (roast.ts nextStep) until it
 * has nothing more to do: check the shares it names (excluding senders of bad ones), start attempts, arm
 * the stagger timer, or fail the request once fewer than t members remain.
 */
export async function settle(ev: RequestEvent): Promise<void> {
  await propose(ev);
  for (;;) {
    if (isTerminalRequest(ev.state.request.status)) return;
    const step = nextStep(ev.view());
    switch (step.kind) {
      case 'fail':
        return failRequest(ev);
      case 'verify':
        await exclude(ev, await judgeShares(ev, step.shares));
        break;
      case 'start':
        await startAttempt(ev, step.signers);
        break;
      case 'wait':
        ev.wakeAt(new Date(step.until));
        return;
      case 'idle':
        return;
    }
  }
}

/** A share arrived for an attempt still running: once all are in, aggregate (and exclude culprits if it fails). */
export async function maybeFinish(ev: RequestEvent, attemptId: string): Promise<void> {
  const attempt = ev.state.attempts.find((a) => a.id === attemptId)!;
  if (attempt.status !== 'signing' || sharesOf(ev, attempt.id).length < attempt.participants.length) return;
  const outcome = await finishAttempt(ev, attempt);
  if (!outcome.completed) await exclude(ev, outcome.culprits);
}

function describeExcluded(ev: RequestEvent): string {
  const culprits = ev.state.request.culprits;
  return culprits.length === 0
    ? ''
    : `; excluded: ${culprits.map((c) => `${describeNode(ev.state, c.nodeId)} (${c.reason}${c.detail ? `: ${c.detail}` : ''})`).join(', ')}`;
}

const describeSilent = (ev: RequestEvent, silent: readonly string[]) =>
  silent.length ? `; never answered: ${silent.map((id) => describeNode(ev.state, id)).join(', ')}` : '';

/**
 * Fewer than t members remain. When more than n - t of them declined (any decline, signed or not), the
 * request was rejected: no t members can ever approve it. Otherwise it failed for other reasons (ROAST).
 */
function failRequest(ev: RequestEvent): Promise<void> {
  const { key, request } = ev.state;
  const decliners = request.culprits.filter((c) => c.reason === 'declined');
  return decliners.length > key.maxSigners - key.threshold ? rejectRequest(ev, decliners) : notEnoughSigners(ev);
}

async function rejectRequest(ev: RequestEvent, decliners: readonly Culprit[]): Promise<void> {
  const { state } = ev;
  const { maxSigners: n, threshold: t } = state.key;
  const named = decliners.map((c) => `${describeNode(state, c.nodeId)}${c.detail ? ` (${c.detail})` : ''}`).join(', ');
  const reason = `rejected: ${decliners.length} of ${n} members declined, more than n - t = ${n - t}: ${named}`;
  await endRequest(ev, {
    status: 'failed',
    code: 'REJECTED',
    action: 'request.rejected',
    reason,
    culprits: state.request.culprits,
    attemptStatus: 'failed',
    attemptReason: 'the request was rejected',
    details: { code: 'REJECTED', reason, decliners: decliners.map((c) => c.nodeId), culprits: state.request.culprits.map((c) => ({ ...c })) },
  });
}

/**
 * Cancelled by its proposer or an admin: running attempts are aborted, every commitment burns, and the
 * members are told (`request.closed` cancelled), so they hold no nonce and drop any awaiting approval.
 */
export async function cancelRequest(ev: RequestEvent, actor: Actor, why: string | undefined): Promise<void> {
  const reason = `cancelled by ${actor.kind} ${actor.id}${why ? `: ${why}` : ''}`;
  await endRequest(ev, {
    status: 'cancelled',
    code: 'REQUEST_CANCELLED',
    action: 'request.cancelled',
    actor,
    reason,
    culprits: ev.state.request.culprits,
    attemptStatus: 'aborted',
    attemptReason: 'the request was cancelled',
    details: { reason: why ?? null, by: { ...actor }, status: ev.state.request.status },
  });
}

async function notEnoughSigners(ev: RequestEvent): Promise<void> {
  const { state } = ev;
  const eligible = state.key.members.filter((m) => !state.request.culprits.some((c) => c.nodeId === m.nodeId)).length;
  const silent = neverAnswered(ev.view(), state.attempts);
  const reason = `only ${eligible} of the ${state.key.threshold} required signers remain` + describeExcluded(ev) + describeSilent(ev, silent);
  await endRequest(ev, {
    status: 'failed',
    code: 'NOT_ENOUGH_SIGNERS',
    reason,
    culprits: state.request.culprits,
    attemptStatus: 'failed',
    attemptReason: 'not enough signers remain',
    details: { code: 'NOT_ENOUGH_SIGNERS', reason, culprits: state.request.culprits.map((c) => ({ ...c })), silent },
  });
}

/** The deadline passed: the request expires, naming who was excluded and who never answered. */
export async function expire(ev: RequestEvent): Promise<void> {
  const { state } = ev;
  const silent = neverAnswered(ev.view(), state.attempts);
  const reason = `deadline passed after ${state.attempts.length} attempt(s)` + describeExcluded(ev) + describeSilent(ev, silent);
  await endRequest(ev, {
    status: 'expired',
    code: 'REQUEST_EXPIRED',
    reason,
    culprits: [...state.request.culprits, ...silent.map((nodeId): Culprit => ({ nodeId, reason: 'unresponsive' }))],
    attemptStatus: 'timed_out',
    attemptReason: 'request deadline passed',
    details: { reason, silent, attempts: state.attempts.length },
  });
}

/** Ends a request without a signature: running attempts end, every commitment burns, nodes are told. */
async function endRequest(
  ev: RequestEvent,
  end: {
    status: 'failed' | 'expired' | 'cancelled';
    code: string;
    /** The audit action, when not request.failed / request.expired. */
    action?: AuditAction;
    actor?: Actor;
    reason: string;
    culprits: Culprit[];
    attemptStatus: 'failed' | 'timed_out' | 'aborted';
    attemptReason: string;
    details: Record<string, unknown>;
  },
): Promise<void> {
  const { state } = ev;
  for (const a of state.attempts.filter((x) => x.status === 'signing')) {
    await ev.tx.attempts.update(state.request.id, a.id, { status: end.attemptStatus, endedAt: ev.now, failureReason: end.attemptReason });
    Object.assign(a, { status: end.attemptStatus, endedAt: ev.now, failureReason: end.attemptReason });
  }
  await ev.tx.commitments.burnForRequest(state.request.id);
  state.commitments = [];
  ev.update({ status: end.status, failureCode: end.code, failureReason: end.reason, culprits: end.culprits, completedAt: ev.now });
  ev.audit(end.actor ?? SYSTEM_ACTOR, end.action ?? (end.status === 'expired' ? 'request.expired' : 'request.failed'), end.status === 'cancelled' ? 'success' : 'failure', end.details);
  closeRequest(ev, end.status, end.reason);
}

/** A scheduled look: a request past its deadline expires; one whose wake-up time came runs the scheduler. */
export async function lookAt(ev: RequestEvent): Promise<void> {
  const { request } = ev.state;
  if (isTerminalRequest(request.status)) return;
  if (request.deadline <= ev.now) return expire(ev);
  ev.clearWake();
  await settle(ev);
}
