import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SECRET_DIR_MODE } from '../keystore/atomic-file.js';
import { SignerError } from '../signer-error.js';
import { compileRule, type CompiledRule } from './policy-conditions.js';
import { loadPolicyObject, parsePolicySource, readPolicyFile, type LoadedDocument } from './policy-document.js';
import { compileGrantRule, decideGrant, type CompiledGrantRule } from './grant-rules.js';
import { clip, decide } from './policy-evaluate.js';
import { POLICY_LOG_FILE, PolicyLog, type CommitLogEntry } from './policy-log.js';
import type { PolicyDocument } from './policy-schema.js';
import type { ApprovedBy, GrantSubject, NodePolicy, PolicyEvaluation, PolicySubject, UsageCommit } from './policy-types.js';
import { POLICY_LEDGER_FILE, VelocityLedger } from './velocity-ledger.js';

/**
 * A node's policy engine (issue 9, section 2): a typed rule document (policy-schema.ts) decided by
 * policy-evaluate.ts (deny by default, all-match, deny > ask > allow, fail closed on what cannot be
 * evaluated), with a durable velocity ledger and a policy log in the node's state (keystore)
 * directory. See docs/policy.md for the document and its semantics.
 */

export interface NodePolicyOptions {
  /** A policy file, YAML or JSON. */
  file?: string;
  /** Or the document itself: its text (YAML or JSON), or an object (as `policyFromFlags` builds). */
  document?: string | object;
  /** Where the ledger and log live: the keystore directory. */
  stateDir: string;
}

export interface LoadedNodePolicy extends NodePolicy {
  readonly document: PolicyDocument;
  readonly ledgerPath: string;
  readonly logPath: string;
  /** What the node should tell its operator at start (a corrupt ledger, a policy that allows nothing). */
  readonly warnings: readonly string[];
  /** One line for the start-up log. */
  describe(): string;
  /** Every policy log entry, oldest first. */
  readLog(): ReturnType<PolicyLog['read']>;
}

export async function loadNodePolicy(options: NodePolicyOptions): Promise<LoadedNodePolicy> {
  if ((options.file === undefined) === (options.document === undefined)) {
    throw new SignerError('POLICY_INVALID', 'give a policy file or a policy document (one of them)');
  }
  const loaded =
    options.file !== undefined
      ? await readPolicyFile(options.file)
      : typeof options.document === 'string'
        ? parsePolicySource(options.document)
        : loadPolicyObject(options.document);
  try {
    await mkdir(options.stateDir, { recursive: true, mode: SECRET_DIR_MODE });
  } catch (e) {
    throw new SignerError('POLICY_STATE_CORRUPT', `the policy state directory ${options.stateDir} cannot be created: ${(e as Error).message}`, { cause: e });
  }
  const ledger = await VelocityLedger.open(join(options.stateDir, POLICY_LEDGER_FILE), loaded.document.limits ?? []);
  return new RuleNodePolicy(loaded, ledger, new PolicyLog(join(options.stateDir, POLICY_LOG_FILE)), options.file ?? 'document');
}

class RuleNodePolicy implements LoadedNodePolicy {
  readonly document: PolicyDocument;
  readonly source: string;
  readonly policyHash: string;
  readonly warnings: string[] = [];
  private readonly rules: CompiledRule[];
  private readonly grantRules: CompiledGrantRule[];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    loaded: LoadedDocument,
    private readonly ledger: VelocityLedger,
    private readonly log: PolicyLog,
    private readonly origin: string,
  ) {
    this.document = loaded.document;
    this.source = loaded.source;
    this.policyHash = loaded.policyHash;
    this.rules = loaded.document.rules.map(compileRule);
    this.grantRules = (loaded.document.grantRules ?? []).map(compileGrantRule);
    if ((loaded.document.limits ?? []).length > 0 && ledger.corrupt) this.warnings.push(ledger.corrupt);
    if (!this.rules.some((r) => r.rule.outcome !== 'deny')) this.warnings.push('the policy has no allow or ask rule: this node will decline every request');
  }

  get ledgerPath(): string {
    return this.ledger.path;
  }

  get logPath(): string {
    return this.log.path;
  }

  describe(): string {
    const limits = this.document.limits?.length ?? 0;
    return (
      `policy ${this.policyHash.slice(0, 12)} from ${this.origin}: ${this.rules.length} rule(s), ${limits} limit(s), ` +
      `${this.grantRules.length} grant rule(s), deny by default`
    );
  }

  readLog(): ReturnType<PolicyLog['read']> {
    return this.log.read();
  }

  evaluate(subject: PolicySubject, now: number): Promise<PolicyEvaluation> {
    return this.serialized(async () => {
      const { requestId, intent } = subject;
      const decision = decide(this.rules, intent, now, (limitId) => this.ledger.keeps(limitId, requestId, intent, now));
      const evaluation: PolicyEvaluation = { ...decision, policyHash: this.policyHash };
      try {
        await this.log.append({ event: 'evaluate', time: new Date(now).toISOString(), requestId, intentHash: subject.intentHash, ...evaluation });
      } catch (e) {
        // An evaluation that cannot be recorded is not acted on: fail closed.
        return { outcome: 'deny', rule: null, reason: clip(`the evaluation cannot be recorded: ${(e as Error).message}`), policyHash: this.policyHash };
      }
      return evaluation;
    });
  }

  evaluateGrant(subject: GrantSubject, now: number): Promise<PolicyEvaluation> {
    return this.serialized(async () => {
      const evaluation: PolicyEvaluation = { ...decideGrant(this.grantRules, subject.grant), policyHash: this.policyHash };
      try {
        await this.log.append({ event: 'evaluate-grant', time: new Date(now).toISOString(), grantId: subject.grant.id, grantHash: subject.grantHash, ...evaluation });
      } catch (e) {
        return { outcome: 'deny', rule: null, reason: clip(`the evaluation cannot be recorded: ${(e as Error).message}`), policyHash: this.policyHash };
      }
      return evaluation;
    });
  }

  commitUsage(subject: PolicySubject, now: number, approvedBy: ApprovedBy): Promise<UsageCommit> {
    return this.serialized(async () => {
      const answer = await this.commit(subject, now, approvedBy);
      const entry: CommitLogEntry = {
        event: 'commit',
        time: new Date(now).toISOString(),
        requestId: subject.requestId,
        intentHash: subject.intentHash,
        policyHash: this.policyHash,
        rule: approvedBy === 'operator' ? null : 'grantId' in approvedBy ? `grant:${approvedBy.grantId}` : approvedBy.rule,
        approvedBy: approvedBy === 'operator' ? 'operator' : 'grantId' in approvedBy ? 'grant' : 'policy',
        outcome: answer.outcome,
        reason: answer.reason,
      };
      try {
        await this.log.append(entry);
      } catch (e) {
        if (answer.outcome === 'refused') return { ok: false, reason: answer.reason };
        return { ok: false, reason: clip(`usage was recorded but the policy log cannot be written: ${(e as Error).message}`) };
      }
      return answer.outcome === 'refused' ? { ok: false, reason: answer.reason } : { ok: true };
    });
  }

  private async commit(subject: PolicySubject, now: number, approvedBy: ApprovedBy): Promise<{ outcome: CommitLogEntry['outcome']; reason: string }> {
    const refuse = (reason: string) => ({ outcome: 'refused' as const, reason: clip(reason) });
    let within: readonly string[] = [];
    if (approvedBy !== 'operator' && !('grantId' in approvedBy)) {
      if (approvedBy.policyHash !== this.policyHash) return refuse(`approved under policy ${approvedBy.policyHash}, not this node's ${this.policyHash}`);
      if (approvedBy.outcome !== 'allow') return refuse(`the evaluation's outcome is ${approvedBy.outcome}, not allow`);
      const rule = this.rules.find((r) => r.rule.id === approvedBy.rule)?.rule;
      if (!rule || rule.outcome !== 'allow') return refuse(`rule ${String(approvedBy.rule)} is not an allow rule of this policy`);
      within = rule.match.within ?? [];
    }
    const { requestId, intent } = subject;
    if (this.ledger.has(requestId)) return { outcome: 'already-recorded', reason: 'this request was already counted' };
    for (const id of within) {
      const check = this.ledger.keeps(id, requestId, intent, now);
      if (check.state !== 'yes') return refuse(`the request no longer keeps its limits: ${check.reason}`);
    }
    if ((this.document.limits ?? []).length === 0) return { outcome: 'recorded', reason: 'the policy has no velocity limit' };
    if (this.ledger.corrupt) return refuse(this.ledger.corrupt);
    try {
      await this.ledger.record(requestId, intent, now);
    } catch (e) {
      return refuse((e as Error).message);
    }
    const by = approvedBy === 'operator' ? 'approved by the operator; ' : 'grantId' in approvedBy ? `inside grant ${approvedBy.grantId}; ` : '';
    return { outcome: 'recorded', reason: `${by}counted against every limit` };
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
