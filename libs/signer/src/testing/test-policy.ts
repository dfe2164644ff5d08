import { createHash } from 'node:crypto';
import type { ApprovedBy, GrantSubject, NodePolicy, PolicyEvaluation, PolicyOutcome, PolicySubject, UsageCommit } from '../policy/policy-types.js';

/** What a test policy answers for a subject: an outcome (with a generated rule and reason) or a whole evaluation. */
export type TestPolicyAnswer = PolicyOutcome | Omit<PolicyEvaluation, 'policyHash'>;

export interface TestPolicy extends NodePolicy {
  /** Every evaluation, in order. */
  readonly evaluations: { subject: PolicySubject; evaluation: PolicyEvaluation }[];
  /** Every commitUsage call, in order, with its answer. */
  readonly usage: { requestId: string; approvedBy: ApprovedBy; answer: UsageCommit }[];
  /** Every grant evaluation, in order. */
  readonly grantEvaluations: { subject: GrantSubject; evaluation: PolicyEvaluation }[];
  /** What evaluateGrant answers from now on (default `deny`: deny by default). */
  answerGrants(answer: PolicyOutcome): void;
  /** What commitUsage answers from now on (default `{ok: true}`). */
  refuseUsage(reason: string | null): void;
}

/**
 * A small NodePolicy for specs (the real engine is libs/signer/src/policy): answers `decide(subject)`
 * and records what it was asked. Its hash is the SHA-256 of its name, so two test policies differ.
 */
export function testPolicy(decide: TestPolicyAnswer | ((subject: PolicySubject) => TestPolicyAnswer), name = 'test-policy'): TestPolicy {
  const policyHash = createHash('sha256').update(name).digest('hex');
  const evaluations: TestPolicy['evaluations'] = [];
  const usage: TestPolicy['usage'] = [];
  const grantEvaluations: TestPolicy['grantEvaluations'] = [];
  let refusal: string | null = null;
  let grantAnswer: PolicyOutcome = 'deny';
  return {
    policyHash,
    source: `# ${name}`,
    evaluations,
    usage,
    grantEvaluations,
    refuseUsage: (reason) => {
      refusal = reason;
    },
    answerGrants: (answer) => {
      grantAnswer = answer;
    },
    evaluateGrant(subject: GrantSubject): Promise<PolicyEvaluation> {
      const evaluation: PolicyEvaluation = { outcome: grantAnswer, rule: `grant-${grantAnswer}-rule`, reason: `the test policy says ${grantAnswer} to grants`, policyHash };
      grantEvaluations.push({ subject, evaluation });
      return Promise.resolve(evaluation);
    },
    evaluate(subject: PolicySubject): Promise<PolicyEvaluation> {
      const answer = typeof decide === 'function' ? decide(subject) : decide;
      const evaluation: PolicyEvaluation =
        typeof answer === 'string'
          ? { outcome: answer, rule: `${answer}-rule`, reason: `the test policy says ${answer}`, policyHash }
          : { ...answer, policyHash };
      evaluations.push({ subject, evaluation });
      return Promise.resolve(evaluation);
    },
    commitUsage(subject: PolicySubject, _now: number, approvedBy: ApprovedBy): Promise<UsageCommit> {
      const answer: UsageCommit = refusal === null ? { ok: true } : { ok: false, reason: refusal };
      usage.push({ requestId: subject.requestId, approvedBy, answer });
      return Promise.resolve(answer);
    },
  };
}

/** A policy that allows everything (the old `approve-all`), for specs about something else. */
export const allowAllPolicy = (): TestPolicy => testPolicy('allow', 'allow-all');
