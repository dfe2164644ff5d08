import { summarizeIntent, summaryLine } from '#intent';
import type { RequestClosedFrame, SignedDecision } from '#protocol';
import { describeError, silentLogger, type SignerLogger } from '../logger.js';
import { ApprovalRecord, type ApprovalDetail, type ApprovalItem, type ApprovalState } from './approvals-protocol.js';

/** Where the queue keeps its records durably (the keystore's approvals/ directory, in production). */
export interface ApprovalRecordStore {
  write(id: string, record: object): Promise<void>;
  read(id: string): Promise<unknown>;
  list(): Promise<string[]>;
  remove(id: string): Promise<void>;
}

type ClosedStatus = RequestClosedFrame['status'];

/** Closed requests remembered (in memory) to tell the operator why an approval is gone. */
const MAX_CLOSED_REMEMBERED = 1024;

/**
 * Proposals a node's policy answered `ask`: they wait here for the operator, with no nonce committed.
 * Every change is written to the store before it is visible, so a restart keeps both the waiting
 * proposals and the operator's signed decisions (a decided entry answers the coordinator's next
 * proposal of the same request). An entry leaves when the coordinator closes or cancels the request,
 * or some time after its deadline.
 */
export class ApprovalQueue {
  private readonly entries = new Map<string, ApprovalRecord>();
  private readonly closed = new Map<string, ClosedStatus>();

  private constructor(
    private readonly store: ApprovalRecordStore,
    private readonly logger: SignerLogger,
  ) {}

  /** Loads every stored entry; one that cannot be read is logged and left on disk, not served. */
  static async open(store: ApprovalRecordStore, logger: SignerLogger = silentLogger): Promise<ApprovalQueue> {
    const queue = new ApprovalQueue(store, logger);
    for (const id of await store.list()) {
      try {
        const parsed = ApprovalRecord.safeParse(await store.read(id));
        if (!parsed.success || parsed.data.requestId !== id) throw new Error(parsed.error?.issues[0]?.message ?? 'record of another request');
        queue.entries.set(id, parsed.data);
      } catch (e) {
        logger.error({ requestId: id, err: describeError(e) }, 'an approval record cannot be read; it is ignored');
      }
    }
    return queue;
  }

  get(requestId: string): ApprovalRecord | undefined {
    return this.entries.get(requestId);
  }

  /** How the coordinator closed the request, if it did while this node remembers. */
  closedAs(requestId: string): ClosedStatus | undefined {
    return this.closed.get(requestId);
  }

  get size(): number {
    return this.entries.size;
  }

  async add(record: ApprovalRecord): Promise<void> {
    await this.store.write(record.requestId, record);
    this.entries.set(record.requestId, record);
  }

  /** Records the operator's signed decision on a waiting entry. */
  async decide(requestId: string, decision: SignedDecision): Promise<ApprovalRecord> {
    const entry = this.entries.get(requestId);
    if (!entry) throw new Error(`no approval ${requestId}`);
    const decided: ApprovalRecord = { ...entry, decision };
    await this.store.write(requestId, decided);
    this.entries.set(requestId, decided);
    return decided;
  }

  /** Removes the entry of a request the coordinator closed; true if there was one. */
  async close(requestId: string, status: ClosedStatus): Promise<boolean> {
    this.closed.delete(requestId);
    this.closed.set(requestId, status);
    for (const oldest of this.closed.keys()) {
      if (this.closed.size <= MAX_CLOSED_REMEMBERED) break;
      this.closed.delete(oldest);
    }
    return this.remove(requestId);
  }

  async remove(requestId: string): Promise<boolean> {
    if (!this.entries.has(requestId)) return false;
    await this.store.remove(requestId);
    this.entries.delete(requestId);
    return true;
  }

  /** Removes entries whose deadline is before `cutoff`; returns their ids. */
  async pruneBefore(cutoff: number): Promise<string[]> {
    const gone = [...this.entries.values()].filter((e) => e.intent.deadline < cutoff).map((e) => e.requestId);
    for (const id of gone) await this.remove(id);
    return gone;
  }

  /** Every entry, oldest first. */
  list(now: number): ApprovalItem[] {
    return [...this.entries.values()].sort((a, b) => a.receivedAt - b.receivedAt || a.requestId.localeCompare(b.requestId)).map((e) => approvalItem(e, now));
  }
}

export function approvalState(entry: ApprovalRecord, now: number): ApprovalState {
  if (entry.decision) return entry.decision.verdict === 'approve' ? 'approved' : 'rejected';
  return entry.intent.deadline <= now ? 'expired' : 'awaiting';
}

export function approvalItem(entry: ApprovalRecord, now: number): ApprovalItem {
  return {
    kind: 'request',
    requestId: entry.requestId,
    state: approvalState(entry, now),
    keyId: entry.intent.keyId,
    summary: summaryLine(entry.intent),
    intentHash: entry.intentHash,
    deadline: entry.intent.deadline,
    receivedAt: entry.receivedAt,
    rule: entry.evaluation.rule,
    reason: entry.evaluation.reason,
  };
}

/** What `signer approvals show` prints: the decoded summary, the raw hashes, the intent itself. */
export function approvalDetail(entry: ApprovalRecord, now: number): ApprovalDetail {
  const summary = summarizeIntent(entry.intent, entry.intentHash);
  return {
    ...approvalItem(entry, now),
    headline: summary.headline,
    blind: summary.blind,
    fields: summary.fields,
    hashes: summary.hashes,
    suite: entry.suite,
    threshold: entry.threshold,
    policyHash: entry.evaluation.policyHash,
    intent: entry.intent,
    decision: entry.decision,
  };
}
