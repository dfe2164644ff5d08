import { describe, expect, it } from 'vitest';
import type { SigningMetrics } from '../ports.js';
import type { AttemptRecord } from '../records.js';
import { observeEvent, snapshotOf } from './request-metrics.js';
import type { RequestState } from './request-state.js';

const t = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s));

function recorder(): { calls: unknown[][]; metrics: SigningMetrics } {
  const calls: unknown[][] = [];
  return {
    calls,
    metrics: {
      requestFinished: (...a) => void calls.push(['finished', ...a]),
      attemptStarted: (...a) => void calls.push(['started', ...a]),
      attemptEnded: (...a) => void calls.push(['ended', ...a]),
      nodeExcluded: (...a) => void calls.push(['excluded', ...a]),
    },
  };
}

const attempt = (id: string, seq: number, startedAt: Date, endedAt: Date | null, status: AttemptRecord['status']): AttemptRecord =>
  ({ id, requestId: 'r', seq, status, participants: [], commitments: [], deadline: t(100), startedAt, endedAt, failureReason: null });

const state = (patch: Partial<RequestState['request']>, attempts: AttemptRecord[]): RequestState =>
  ({ request: { id: 'r', status: 'committing', culprits: [], createdAt: t(0), updatedAt: t(0), completedAt: null, ...patch }, attempts }) as unknown as RequestState;

describe('observeEvent', () => {
  it('reports what the event changed: an attempt ended, a second one started, the request completed', () => {
    const before = snapshotOf(state({ status: 'signing' }, [attempt('a1', 1, t(2), null, 'signing')]));
    const after = state({ status: 'completed', completedAt: t(9), culprits: [{ nodeId: 'n3', reason: 'invalid_share' }] }, [attempt('a1', 1, t(2), t(5), 'failed'), attempt('a2', 2, t(6), t(9), 'completed')]);
    const { calls, metrics } = recorder();
    observeEvent(before, after, metrics);
    expect(calls).toEqual([
      ['ended', 'failed', 3],
      ['started', 1],
      ['ended', 'completed', 3],
      ['excluded', 'invalid_share'],
      ['finished', 'completed', 9],
    ]);
  });

  it('reports nothing for an event that changed nothing, nor a final status twice', () => {
    const done = state({ status: 'completed', completedAt: t(9) }, [attempt('a1', 1, t(2), t(9), 'completed')]);
    const { calls, metrics } = recorder();
    observeEvent(snapshotOf(done), done, metrics);
    expect(calls).toEqual([]);
  });

  it('times the first commitment round from the request\'s creation', () => {
    const { calls, metrics } = recorder();
    observeEvent(snapshotOf(state({}, [])), state({ status: 'signing' }, [attempt('a1', 1, t(4), null, 'signing')]), metrics);
    expect(calls).toEqual([['started', 4]]);
  });
});
