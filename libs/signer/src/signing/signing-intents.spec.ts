import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { hexToBytes, verifySignatureShare } from '#crypto';
import { verifyDecision } from '#intent';
import type { RequestProposeFrame } from '#protocol';
import { ApprovalsRefusal } from '../approvals/approvals-protocol.js';
import { transferPayload } from '../testing/intent-fixtures.js';
import { serviceFixture, type ServiceFixture } from '../testing/service-fixture.js';
import { testPolicy, type TestPolicy } from '../testing/test-policy.js';

/** The node on intents: what it derives itself, the decisions it signs, and the operator's queue. */
describe('signing service on intents', () => {
  let f: ServiceFixture;
  afterEach(() => f.close());

  const setup = async (policy: TestPolicy, durable = false) => {
    f = await serviceFixture({ policy, durable });
    return policy;
  };
  const commitOf = async (p: RequestProposeFrame) => {
    const outcome = await f.service.handlePropose(p);
    if (outcome.kind !== 'committed') throw new Error(JSON.stringify(outcome.frame));
    return outcome.frame;
  };
  const issued = (requestId: string, commitment: Parameters<ServiceFixture['nonces']['status']>[1]) => f.nonces.status(requestId, commitment);
  const refusalOf = (e: unknown) => (e instanceof ApprovalsRefusal ? { code: e.code, message: e.message } : e);

  describe('what the node derives from the intent', () => {
    it('declines INTENT_MISMATCH when the frame carries a hash other than the intent\'s own', async () => {
      await setup(testPolicy('allow'));
      const p = f.propose();
      const outcome = await f.service.handlePropose({ ...p, intentHash: 'ab'.repeat(32) });
      expect(outcome).toMatchObject({ kind: 'declined', frame: { code: 'INTENT_MISMATCH' } });
      // A technical decline carries no decision.
      expect(outcome.frame).not.toHaveProperty('decision');
    });

    it('declines INTENT_INVALID when it cannot derive the bytes to sign (typed data naming an unknown type)', async () => {
      const policy = await setup(testPolicy('allow'));
      const p = f.propose({ payload: { kind: 'eip712', typedData: { domain: {}, types: {}, primaryType: 'Missing', message: {} } } }, { intentHash: 'ab'.repeat(32) });
      expect(await f.service.handlePropose(p)).toMatchObject({ kind: 'declined', frame: { code: 'INTENT_INVALID' } });
      expect(policy.evaluations).toEqual([]);
    });

    it("declines DEADLINE_PASSED on the intent's own deadline", async () => {
      await setup(testPolicy('allow'));
      expect(await f.service.handlePropose(f.propose({ deadline: f.clock.now }))).toMatchObject({ kind: 'declined', frame: { code: 'DEADLINE_PASSED' } });
    });

    it('signs exactly the EIP-712 digest of the approved intent, and refuses the typed data\'s other hashes', async () => {
      await setup(testPolicy('allow'));
      const p = f.propose({ payload: transferPayload('1000'), chainId: 1 });
      const own = (await commitOf(p)).commitment;
      const pkg = f.packageFor(p, own);
      const signed = await f.service.handlePackage(pkg);
      if (signed.kind !== 'signed') throw new Error(JSON.stringify(signed.frame));
      expect(verifySignatureShare(f.key.publicPackage, pkg.commitments, hexToBytes(pkg.message), f.share.identifier, signed.frame.share)).toBe(true);
      const next = signed.frame.nextCommitment!;
      const wrong = await f.service.handlePackage(f.packageFor(p, next, { message: 'cd'.repeat(32) }));
      expect(wrong).toMatchObject({ kind: 'refused', frame: { code: 'MESSAGE_MISMATCH' } });
    });

    it('declines INTENT_MISMATCH when a request it approved is proposed again with another intent', async () => {
      await setup(testPolicy('allow'));
      const p = f.propose();
      await commitOf(p);
      const other = f.propose({ payload: { kind: 'text', text: 'pay 500 to mallory' } }, { requestId: p.requestId });
      expect(await f.service.handlePropose(other)).toMatchObject({ kind: 'declined', frame: { code: 'INTENT_MISMATCH' } });
    });
  });

  describe('policy decisions, signed', () => {
    it('allow: commits with an approval signed by the node over the intent hash', async () => {
      const policy = await setup(testPolicy('allow'));
      const p = f.propose();
      const frame = await commitOf(p);
      expect(frame.decision).toMatchObject({
        requestId: p.requestId,
        intentHash: p.intentHash,
        verdict: 'approve',
        by: 'policy',
        policyHash: policy.policyHash,
        rule: 'allow-rule',
        decidedAt: f.clock.now,
      });
      expect(verifyDecision(f.identity.publicKey, frame.decision)).toBe(true);
      expect(verifyDecision(f.identity.publicKey, { ...frame.decision, intentHash: 'cd'.repeat(32) })).toBe(false);
      expect(policy.evaluations.map((e) => e.subject)).toEqual([{ requestId: p.requestId, intent: p.intent, intentHash: p.intentHash }]);
    });

    it('deny: declines POLICY_DENIED with a signed decline naming the rule and reason', async () => {
      await setup(testPolicy({ outcome: 'deny', rule: 'over-limit', reason: 'amount 2000 is over the limit 1000' }));
      const outcome = await f.service.handlePropose(f.propose());
      expect(outcome).toMatchObject({
        kind: 'declined',
        frame: { code: 'POLICY_DENIED', reason: 'amount 2000 is over the limit 1000', decision: { verdict: 'decline', by: 'policy', rule: 'over-limit' } },
      });
      if (outcome.kind !== 'declined') return;
      expect(verifyDecision(f.identity.publicKey, outcome.frame.decision!)).toBe(true);
    });

    it('a policy that throws is a deny (fail closed)', async () => {
      await setup(testPolicy(() => {
        throw new Error('ledger unreadable');
      }));
      expect(await f.service.handlePropose(f.propose())).toMatchObject({
        kind: 'declined',
        frame: { code: 'POLICY_DENIED', reason: expect.stringMatching(/ledger unreadable/) as unknown, decision: { verdict: 'decline', rule: null } },
      });
    });

    it('counts usage just before the share leaves; a refusal refuses the package POLICY_DENIED and burns the nonce', async () => {
      const policy = await setup(testPolicy('allow'));
      const p = f.propose();
      const own = (await commitOf(p)).commitment;
      policy.refuseUsage('the daily limit of 1000 is spent');
      const outcome = await f.service.handlePackage(f.packageFor(p, own));
      expect(outcome).toMatchObject({ kind: 'refused', frame: { code: 'POLICY_DENIED', reason: 'the daily limit of 1000 is spent' } });
      expect(issued(p.requestId, own)).toBe('consumed');
      expect(policy.usage).toEqual([{ requestId: p.requestId, approvedBy: expect.objectContaining({ outcome: 'allow' }) as unknown, answer: { ok: false, reason: 'the daily limit of 1000 is spent' } }]);
    });
  });

  describe('the operator decides on ask', () => {
    it('ask: answers awaiting, commits no nonce, and asks again without re-evaluating', async () => {
      const policy = await setup(testPolicy('ask'));
      const p = f.propose();
      const outcome = await f.service.handlePropose(p);
      expect(outcome).toEqual({
        kind: 'awaiting',
        frame: { type: 'request.awaiting', requestId: p.requestId, intentHash: p.intentHash, policyHash: policy.policyHash, rule: 'ask-rule', reason: 'the test policy says ask' },
      });
      expect(f.nonces.liveCount()).toBe(0);
      expect(f.approvals.list(f.clock.now)).toMatchObject([{ requestId: p.requestId, state: 'awaiting', intentHash: p.intentHash }]);
      expect(await f.service.handlePropose(p)).toMatchObject({ kind: 'awaiting' });
      expect(policy.evaluations).toHaveLength(1);
      // No nonce, so a package for it is refused.
      expect(await f.service.handlePackage(f.packageFor(p, { identifier: f.share.identifier, hiding: '02'.padEnd(66, '1'), binding: '02'.padEnd(66, '2') }))).toMatchObject({ kind: 'refused' });
    });

    it('approve: a decision signed by the operator and a fresh commitment; the package then signs, counted as the operator\'s', async () => {
      const policy = await setup(testPolicy('ask'));
      const p = f.propose();
      await f.service.handlePropose(p);
      const approved = await f.service.operator.approve(p.requestId, true);
      expect(approved.decision).toMatchObject({ requestId: p.requestId, intentHash: p.intentHash, verdict: 'approve', by: 'operator', rule: 'ask-rule', policyHash: policy.policyHash });
      expect(verifyDecision(f.identity.publicKey, approved.decision)).toBe(true);
      expect(approved.frame).toMatchObject({ type: 'request.commit', requestId: p.requestId, decision: approved.decision });
      const own = (approved.frame as { commitment: Parameters<ServiceFixture['packageFor']>[1] }).commitment;
      expect(await f.service.handlePackage(f.packageFor(p, own))).toMatchObject({ kind: 'signed' });
      expect(policy.usage).toMatchObject([{ requestId: p.requestId, approvedBy: 'operator', answer: { ok: true } }]);
      // Proposed again: the stored decision, a fresh commitment.
      const again = await commitOf(p);
      expect(again.decision).toEqual(approved.decision);
      expect(again.commitment).not.toEqual(own);
      await expect(f.service.operator.approve(p.requestId, true).catch(refusalOf)).resolves.toMatchObject({ code: 'APPROVAL_DECIDED' });
    });

    it('approve while disconnected: the decision is stored, no nonce; the next proposal commits with it', async () => {
      await setup(testPolicy('ask'));
      const p = f.propose();
      await f.service.handlePropose(p);
      const approved = await f.service.operator.approve(p.requestId, false);
      expect(approved.frame).toBeUndefined();
      expect((await commitOf(p)).decision).toEqual(approved.decision);
    });

    it('reject: declines OPERATOR_REJECTED with the signed decision, and answers a re-proposal the same', async () => {
      await setup(testPolicy('ask'));
      const p = f.propose();
      await f.service.handlePropose(p);
      const rejected = await f.service.operator.reject(p.requestId, 'not on the payment schedule', true);
      expect(rejected.frame).toMatchObject({ type: 'request.decline', code: 'OPERATOR_REJECTED', reason: 'not on the payment schedule', decision: { verdict: 'decline', by: 'operator' } });
      expect(verifyDecision(f.identity.publicKey, rejected.decision)).toBe(true);
      expect(await f.service.handlePropose(p)).toMatchObject({ kind: 'declined', frame: { code: 'OPERATOR_REJECTED', decision: rejected.decision } });
      expect(f.approvals.list(f.clock.now)).toMatchObject([{ state: 'rejected' }]);
    });

    it('a cancelled request loses its awaiting approval and every nonce; approving it then says it was cancelled', async () => {
      await setup(testPolicy('ask'));
      const p = f.propose();
      await f.service.handlePropose(p);
      expect(await f.service.handleClosed({ v: 1, type: 'request.closed', requestId: p.requestId, status: 'cancelled' })).toEqual({ discarded: 0, approvalRemoved: true });
      expect(f.approvals.list(f.clock.now)).toEqual([]);
      await expect(f.service.operator.approve(p.requestId, true).catch(refusalOf)).resolves.toMatchObject({
        code: 'APPROVAL_CLOSED',
        message: expect.stringMatching(/cancelled by its proposer/) as unknown,
      });
      await expect(f.service.operator.approve(randomUUID(), true).catch(refusalOf)).resolves.toMatchObject({ code: 'APPROVAL_NOT_FOUND' });
    });

    it('a closed request approved earlier loses its nonces too', async () => {
      await setup(testPolicy('ask'));
      const p = f.propose();
      await f.service.handlePropose(p);
      const approved = await f.service.operator.approve(p.requestId, true);
      const own = (approved.frame as { commitment: Parameters<ServiceFixture['packageFor']>[1] }).commitment;
      expect(await f.service.handleClosed({ v: 1, type: 'request.closed', requestId: p.requestId, status: 'cancelled' })).toEqual({ discarded: 1, approvalRemoved: true });
      expect(issued(p.requestId, own)).toBe('consumed');
    });

    it('refuses to approve or reject an expired request, saying so', async () => {
      await setup(testPolicy('ask'));
      const p = f.propose();
      await f.service.handlePropose(p);
      f.clock.now = p.intent.deadline;
      expect(f.approvals.list(f.clock.now)).toMatchObject([{ state: 'expired' }]);
      await expect(f.service.operator.approve(p.requestId, true).catch(refusalOf)).resolves.toMatchObject({ code: 'APPROVAL_EXPIRED', message: expect.stringMatching(/expired at/) as unknown });
      await expect(f.service.operator.reject(p.requestId, 'late', true).catch(refusalOf)).resolves.toMatchObject({ code: 'APPROVAL_EXPIRED' });
    });

    it('keeps awaiting and decided approvals across a restart (keystore approvals/), and answers from the stored decision', async () => {
      await setup(testPolicy('ask'), true);
      const waiting = f.propose();
      const decided = f.propose({ description: 'payroll batch 8' });
      await f.service.handlePropose(waiting);
      f.clock.now += 1;
      await f.service.handlePropose(decided);
      const approved = await f.service.operator.approve(decided.requestId, false);
      const policy = testPolicy('deny', 'after-restart');
      await f.restart(policy);
      expect(f.approvals.list(f.clock.now).map((a) => [a.requestId, a.state])).toEqual([
        [waiting.requestId, 'awaiting'],
        [decided.requestId, 'approved'],
      ]);
      expect(await f.service.handlePropose(waiting)).toMatchObject({ kind: 'awaiting' });
      const commit = await commitOf(decided);
      expect(commit.decision).toEqual(approved.decision);
      expect(verifyDecision(f.identity.publicKey, commit.decision)).toBe(true);
      // The new policy was not asked about either: the operator's decision stands, the waiting one still waits.
      expect(policy.evaluations).toEqual([]);
    });
  });
});
