import { describe, expect, it } from 'vitest';
import { generateIdentity } from '#crypto';
import { signDecision } from '#intent';
import type { SignedDecision, UnsignedDecision } from '#protocol';
import type { Culprit, DecisionRecord, SigningRequestRecord } from '../records.js';
import { decisionProblem, decisionRecord, signedDecisionOf, type DecisionContext } from './decision-steps.js';
import { standing } from './decision-views.js';

const REQUEST = '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41';
const OTHER_REQUEST = '7bada169-5e1c-4d2b-9f3a-0c8e6d4b2a10';
const INTENT = '11'.repeat(32);
const node = generateIdentity();
const stranger = generateIdentity();

const unsigned = (overrides: Partial<UnsignedDecision> = {}): UnsignedDecision => ({
  requestId: REQUEST,
  intentHash: INTENT,
  verdict: 'approve',
  by: 'policy',
  policyHash: 'ab'.repeat(32),
  rule: 'under-limit',
  reason: 'below 1000 USDC',
  decidedAt: 1_767_225_600_000,
  ...overrides,
});
const signed = (overrides: Partial<UnsignedDecision> = {}, key = node.secretKey): SignedDecision => signDecision(key, unsigned(overrides));
const ctx = (overrides: Partial<DecisionContext> = {}): DecisionContext => ({
  requestId: REQUEST,
  intentHash: INTENT,
  verdict: 'approve',
  publicKey: node.publicKey,
  earlier: null,
  ...overrides,
});
const earlier = (verdict: 'approve' | 'decline' | null): DecisionRecord => ({
  ...decisionRecord('n1', signed({ verdict: verdict ?? 'approve' }), null, new Date(0)),
  ...(verdict === null ? { verdict: null, by: null, decidedAt: null, signature: null } : {}),
});

describe('decisionProblem: a decision counts only for this request, this intent, this verdict, this node', () => {
  const cases: [string, SignedDecision, DecisionContext, RegExp | null][] = [
    ['a valid approval', signed(), ctx(), null],
    ['a valid decline on a decline', signed({ verdict: 'decline' }), ctx({ verdict: 'decline' }), null],
    ['another request (replayed)', signed({ requestId: OTHER_REQUEST }), ctx(), /for request 7bada169/],
    ['another intent (replayed)', signed({ intentHash: '22'.repeat(32) }), ctx(), /for intent 2222/],
    ['a request without an intent hash', signed(), ctx({ intentHash: null }), /no intent hash/],
    ['a decline on a commit', signed({ verdict: 'decline' }), ctx(), /verdict approve, not decline/],
    ['an approval on a decline', signed(), ctx({ verdict: 'decline' }), /verdict decline, not approve/],
    ['signed by another node', signed({}, stranger.secretKey), ctx(), /does not verify/],
    ['a sender without an identity key', signed(), ctx({ publicKey: undefined }), /does not verify/],
    ['a forged signature', { ...signed(), signature: 'ab'.repeat(64) }, ctx(), /does not verify/],
    ['a field changed after signing (reason)', { ...signed(), reason: 'something else' }, ctx(), /does not verify/],
    ['a field changed after signing (by)', { ...signed(), by: 'operator' }, ctx(), /does not verify/],
    ['a contrary second decision', signed({ verdict: 'decline' }), ctx({ verdict: 'decline', earlier: earlier('approve') }), /already decided approve/],
    ['the same verdict again', signed({ decidedAt: 1_767_225_700_000 }), ctx({ earlier: earlier('approve') }), null],
    ['a decision after waiting for the operator', signed({ by: 'operator' }), ctx({ earlier: earlier(null) }), null],
  ];
  it.each(cases)('%s', (_, d, c, expected) => {
    const problem = decisionProblem(d, c);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it('gives back, from the stored row, exactly the decision the node signed', () => {
    const d = signed({ rule: null, by: 'operator' });
    const row = decisionRecord('n1', d, null, new Date());
    expect(signedDecisionOf(row, INTENT)).toEqual(d);
    expect(signedDecisionOf({ ...row, verdict: null, by: null, decidedAt: null, signature: null }, INTENT)).toBeNull();
  });
});

describe('standing: each member state in a request view', () => {
  const request = (culprits: Culprit[] = []) => ({ id: REQUEST, intentHash: INTENT, culprits }) as unknown as SigningRequestRecord;
  const row = (overrides: Partial<DecisionRecord>): DecisionRecord => ({
    requestId: REQUEST,
    nodeId: 'n1',
    verdict: null,
    by: null,
    policyHash: null,
    rule: null,
    reason: null,
    decidedAt: null,
    signature: null,
    proposedAt: null,
    awaitingSince: null,
    receivedAt: new Date(0),
    ...overrides,
  });
  const approval = decisionRecord('n1', signed(), null, new Date(0));
  const decline = decisionRecord('n1', signed({ verdict: 'decline' }), null, new Date(0));
  const since = new Date('2026-03-01T10:00:00Z');
  const cases: [string, SigningRequestRecord, DecisionRecord | undefined, string][] = [
    ['never proposed', request(), undefined, 'pending'],
    ['proposed, silent', request(), row({ proposedAt: since }), 'proposed'],
    ['waiting for its operator', request(), row({ proposedAt: since, awaitingSince: since, policyHash: 'ab'.repeat(32), reason: 'ask', rule: 'big' }), 'awaiting_operator'],
    ['approved', request(), approval, 'approved'],
    ['declined with its signed decision', request([{ nodeId: 'n1', reason: 'declined', detail: 'POLICY_DENIED: no' }]), decline, 'declined'],
    ['declined without a decision (KEY_NOT_HELD)', request([{ nodeId: 'n1', reason: 'declined' }]), undefined, 'declined'],
    ['approved, then excluded for a bad share', request([{ nodeId: 'n1', reason: 'invalid_share' }]), approval, 'excluded'],
  ];
  it.each(cases)('%s', (_, req, r, state) => {
    const s = standing(req, 'n1', r);
    expect(s.state).toBe(state);
    expect(s.decision !== null).toBe(r?.verdict != null);
    expect(s.awaiting).toEqual(state === 'awaiting_operator' ? { rule: 'big', reason: 'ask', since } : null);
  });
});
