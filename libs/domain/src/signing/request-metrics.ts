import type { SigningMetrics } from '../ports.js';
import { isTerminalRequest } from '../records.js';
import type { RequestState } from './request-state.js';

/** What an event started from, to tell afterwards what it changed. */
export interface RequestSnapshot {
  status: RequestState['request']['status'];
  attempts: ReadonlyMap<string, boolean>;
  culprits: ReadonlySet<string>;
}

/** The request's status, its attempts (id: ended?) and its culprits, before an event. */
export function snapshotOf(state: RequestState): RequestSnapshot {
  return {
    status: state.request.status,
    attempts: new Map(state.attempts.map((a) => [a.id, a.endedAt !== null])),
    culprits: new Set(state.request.culprits.map((c) => c.nodeId)),
  };
}

const seconds = (from: Date, to: Date): number => Math.max(0, (to.getTime() - from.getTime()) / 1000);

/**
 * Tells `metrics` what one committed event changed, by comparing the state it ended with to `before`:
 * attempts started and ended (with their rounds' durations), nodes excluded, and the request's final
 * status. Pure but for the calls on `metrics`; the steps stay unaware of metrics.
 */
export function observeEvent(before: RequestSnapshot, after: RequestState, metrics: SigningMetrics): void {
  const { request, attempts } = after;
  for (const [i, attempt] of attempts.entries()) {
    if (!before.attempts.has(attempt.id)) {
      const previous = attempts[i - 1];
      metrics.attemptStarted(seconds(previous?.endedAt ?? request.createdAt, attempt.startedAt));
    }
    if (attempt.endedAt !== null && before.attempts.get(attempt.id) !== true) metrics.attemptEnded(attempt.status, seconds(attempt.startedAt, attempt.endedAt));
  }
  for (const culprit of request.culprits) if (!before.culprits.has(culprit.nodeId)) metrics.nodeExcluded(culprit.reason);
  if (!isTerminalRequest(before.status) && isTerminalRequest(request.status)) {
    metrics.requestFinished(request.status as Parameters<SigningMetrics['requestFinished']>[0], seconds(request.createdAt, request.completedAt ?? request.updatedAt));
  }
}
