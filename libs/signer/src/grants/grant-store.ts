import { describeScope } from '#intent';
import type { Grantee } from '#protocol';
import type { ApprovalRecordStore } from '../approvals/approval-queue.js';
import { describeError, silentLogger, type SignerLogger } from '../logger.js';
import { GrantRecord, type GrantDetail, type GrantItem, type GrantState } from './grant-protocol.js';

/**
 * The session-key grants proposed to this node, one encrypted record each in the keystore's grants/
 * directory (the same sealed record files as the approvals queue). Every change is written before it
 * is visible, so a restart keeps the decisions, the revocations and the counters: a budget is never
 * reset by a restart, and a nonce once used stays used.
 */
export class GrantStore {
  private readonly entries = new Map<string, GrantRecord>();

  private constructor(private readonly store: ApprovalRecordStore) {}

  /** Loads every stored grant; one that cannot be read is logged and left on disk, not served. */
  static async open(store: ApprovalRecordStore, logger: SignerLogger = silentLogger): Promise<GrantStore> {
    const grants = new GrantStore(store);
    for (const id of await store.list()) {
      try {
        const parsed = GrantRecord.safeParse(await store.read(id));
        if (!parsed.success || parsed.data.grant.id !== id) throw new Error(parsed.error?.issues[0]?.message ?? 'record of another grant');
        grants.entries.set(id, parsed.data);
      } catch (e) {
        logger.error({ grantId: id, err: describeError(e) }, 'a grant record cannot be read; it is ignored (requests under it get the normal policy)');
      }
    }
    return grants;
  }

  get(grantId: string): GrantRecord | undefined {
    return this.entries.get(grantId.toLowerCase());
  }

  /** Writes the record durably, then makes it visible. */
  async put(record: GrantRecord): Promise<GrantRecord> {
    await this.store.write(record.grant.id, record);
    this.entries.set(record.grant.id, record);
    return record;
  }

  /** Every grant, oldest first. */
  all(): GrantRecord[] {
    return [...this.entries.values()].sort((a, b) => a.receivedAt - b.receivedAt || a.grant.id.localeCompare(b.grant.id));
  }
}

export function grantState(r: GrantRecord, now: number): GrantState {
  if (r.revocation) return 'revoked';
  if (r.decision) return r.decision.verdict === 'approve' ? 'approved' : 'rejected';
  return r.grant.validUntil <= now ? 'expired' : 'awaiting';
}

export const describeGrantee = (g: Grantee): string => (g.kind === 'ed25519' ? `ed25519 ${g.publicKey}` : `eip191 ${g.address}`);

export function grantItem(r: GrantRecord, now: number): GrantItem {
  const { grant } = r;
  return {
    kind: 'grant',
    grantId: grant.id,
    state: grantState(r, now),
    keyId: grant.keyId,
    label: grant.label,
    grantee: describeGrantee(grant.grantee),
    grantHash: r.grantHash,
    validAfter: grant.validAfter,
    validUntil: grant.validUntil,
    receivedAt: r.receivedAt,
    rule: r.evaluation.rule,
    reason: r.evaluation.reason,
    requests: r.counted.length,
  };
}

export function grantDetail(r: GrantRecord, now: number): GrantDetail {
  return {
    ...grantItem(r, now),
    scope: describeScope(r.grant),
    policyHash: r.evaluation.policyHash,
    grant: r.grant,
    decision: r.decision,
    revocation: r.revocation,
  };
}
