import { open, readFile } from 'node:fs/promises';
import { SECRET_FILE_MODE } from '../keystore/atomic-file.js';
import { SignerError } from '../signer-error.js';
import type { PolicyOutcome } from './policy-types.js';

/**
 * The node's policy log: one JSON line per evaluation (and per usage commit) appended to a file in
 * the state directory, mode 0600, each line synced before the answer is used. It records what was
 * decided and why, never secrets: an operator or auditor reads it beside the signed decisions.
 */

export const POLICY_LOG_FILE = 'policy-log.jsonl';

export interface EvaluationLogEntry {
  event: 'evaluate';
  time: string;
  requestId: string;
  intentHash: string;
  policyHash: string;
  rule: string | null;
  outcome: PolicyOutcome;
  reason: string;
}

export interface CommitLogEntry {
  event: 'commit';
  time: string;
  requestId: string;
  intentHash: string;
  policyHash: string;
  /** The rule whose allow is being spent, or null when the operator approved by hand. */
  rule: string | null;
  approvedBy: 'policy' | 'operator' | 'grant';
  /** `recorded`: usage counted; `already-recorded`: a repeated commit; `refused`: the share must not leave. */
  outcome: 'recorded' | 'already-recorded' | 'refused';
  reason: string;
}

/** A decision on a proposed session-key grant by the grant rules. */
export interface GrantEvaluationLogEntry {
  event: 'evaluate-grant';
  time: string;
  grantId: string;
  grantHash: string;
  policyHash: string;
  rule: string | null;
  outcome: PolicyOutcome;
  reason: string;
}

export type PolicyLogEntry = EvaluationLogEntry | CommitLogEntry | GrantEvaluationLogEntry;

export class PolicyLog {
  constructor(readonly path: string) {}

  async append(entry: PolicyLogEntry): Promise<void> {
    try {
      const handle = await open(this.path, 'a', SECRET_FILE_MODE);
      try {
        await handle.chmod(SECRET_FILE_MODE);
        await handle.appendFile(`${JSON.stringify(entry)}\n`);
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } catch (e) {
      throw new SignerError('POLICY_STATE_CORRUPT', `the policy log ${this.path} cannot be written: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Every entry, oldest first (for `signer approvals`, tests and audits). */
  async read(): Promise<PolicyLogEntry[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as PolicyLogEntry);
  }
}
