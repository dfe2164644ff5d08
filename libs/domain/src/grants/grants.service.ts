import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { grantHash as hashGrant, verifyGrantRevocation } from '#intent';
import type { CoordinatorFrame, GrantAwaitingFrame, GrantDecisionFrame, GrantRevokeFrame, Outgoing } from '#protocol';
import { actorRef, auditActor } from '../common/actor.js';
import { awaitingFields } from '../common/node-decisions.js';
import { DOMAIN_SETTINGS, NODE_LINK, type Actor, type DomainSettings, type NodeLink } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { STORE, type Repositories, type Store } from '../ports.js';
import { isTerminalRequest, type AuditAction, type AuditEntryInput, type GrantRecord, type KeyRecord } from '../records.js';
import { SigningService, type FrameOutcome } from '../signing/signing.service.js';
import { DEFAULT_MAX_GRANT_VALIDITY_MS, buildGrant, grantDecisionProblem, grantDecisionRecord, tally, type GrantProposal } from './grant-rules.js';
import { grantWebhookEvents } from '../webhooks/webhook-events.js';
import { loadGrantView, loadGrantViews, type GrantListFilter, type GrantView } from './grant-views.js';

/** Limits what a caller sees: a proposer reads (and revokes) only its own grants. */
export interface GrantScopeFilter {
  proposer?: string;
}

type Frame = Outgoing<CoordinatorFrame>;
/** What a frame's transaction decided: an outcome, or a refusal thrown once its audit entry committed. */
type Decided = { outcome: FrameOutcome } | { refused: DomainError };
const nodeActor = (id: string): Actor => ({ kind: 'node', id });

/**
 * Session-key grants, coordinator side (issue 10): proposing a grant to the key's member nodes, their
 * signed decisions (active once t approved, rejected once more than n - t declined), revocation by an
 * admin, the proposer or any member node (the kill switch: pending requests under it are cancelled and
 * every node is told), and the views. Each change is one transaction that locks the grant's row and
 * writes its audit entries; frames leave after the commit.
 */
@Injectable()
export class GrantsService {
  private readonly logger = new Logger(GrantsService.name);

  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(NODE_LINK) private readonly link: NodeLink,
    @Inject(DOMAIN_SETTINGS) private readonly settings: DomainSettings,
    @Inject(SigningService) private readonly signing: SigningService,
  ) {}

  /** Stores the grant `proposed` and proposes it to every connected member (the others when they connect). */
  async create(input: GrantProposal, actor: Actor): Promise<GrantRecord> {
    const key = await this.activeKey(this.store.read, input.keyId);
    const now = new Date();
    const grant = buildGrant(randomUUID(), input, actorRef(actor), now.getTime(), this.settings.maxGrantValidityMs ?? DEFAULT_MAX_GRANT_VALIDITY_MS);
    const record: GrantRecord = {
      id: grant.id,
      keyId: key.id,
      grant,
      grantHash: hashGrant(grant),
      status: 'proposed',
      proposer: grant.proposer,
      createdAt: now,
      activatedAt: null,
      revokedAt: null,
      revokedBy: null,
      revokeReason: null,
      validUntil: new Date(grant.validUntil),
    };
    // Members connected to any coordinator instance: frames for another instance's nodes are relayed.
    const connected = await this.link.connectedAmong(key.members.map((m) => m.nodeId));
    const targets = key.members.map((m) => m.nodeId).filter((id) => connected.has(id));
    await this.store.transaction(async (tx) => {
      await tx.grants.insert(record);
      await tx.grants.markProposed(record.id, targets, now);
      await tx.audit.append(entry(actor, 'grant.proposed', 'success', record, now, { grantHash: record.grantHash, label: grant.label, grantee: grant.grantee, validAfter: grant.validAfter, validUntil: grant.validUntil, scope: grant.scope, nodes: targets }));
    });
    for (const nodeId of targets) this.link.send(nodeId, { type: 'grant.propose', grant, grantHash: record.grantHash });
    return record;
  }

  view(grantId: string, scope: GrantScopeFilter = {}): Promise<GrantView> {
    return loadGrantView(this.store.read, grantId, scope);
  }

  list(filter: GrantListFilter): Promise<GrantView[]> {
    return loadGrantViews(this.store.read, filter);
  }

  /** Revokes the grant at once (an already revoked one is left as it is). */
  async revoke(grantId: string, actor: Actor, reason: string | undefined, scope: GrantScopeFilter = {}): Promise<GrantRecord> {
    return this.revokeAs(grantId, actor, reason ?? 'revoked', scope);
  }

  // ------------------------------------------------------------------ node frames

  async handleDecision(nodeId: string, frame: GrantDecisionFrame): Promise<FrameOutcome> {
    const d = frame.decision;
    const outcome = await this.store.transaction(async (tx): Promise<Decided> => {
      const { grant, key, publicKey } = await this.forMember(tx, frame.grantId, nodeId);
      const earlier = await tx.grants.findDecision(grant.id, nodeId);
      const now = new Date();
      const problem = grantDecisionProblem(d, frame.grantId, grant, publicKey, earlier);
      if (problem) {
        await tx.audit.append(entry(nodeActor(nodeId), 'grant.decision_refused', 'failure', grant, now, { frame: frame.type, reason: problem, decision: d }, nodeId));
        return { refused: new DomainError('DECISION_INVALID', problem, { grantId: grant.id }) };
      }
      if (earlier?.verdict === d.verdict && earlier.signature === d.signature) return { outcome: 'duplicate' };
      await tx.grants.saveDecision(grantDecisionRecord(nodeId, d, earlier, now));
      const entries: AuditEntryInput[] = [
        entry(nodeActor(nodeId), d.verdict === 'approve' ? 'grant.approved' : 'grant.declined', 'success', grant, now, { decision: d, identityKey: publicKey }, nodeId),
      ];
      if (grant.status === 'proposed') {
        const next = tally(key, await tx.grants.listDecisions([grant.id]));
        if (next === 'active') {
          await tx.grants.update(grant.id, { status: 'active', activatedAt: now });
          entries.push(entry(SYSTEM, 'grant.activated', 'success', grant, now, { threshold: key.threshold }));
        } else if (next === 'rejected') {
          await tx.grants.update(grant.id, { status: 'rejected' });
          entries.push(entry(SYSTEM, 'grant.rejected', 'success', grant, now, { threshold: key.threshold, members: key.members.length }));
        }
      }
      await tx.audit.appendAll(entries);
      await tx.webhooks.enqueue(grantWebhookEvents(grant, entries), now);
      return { outcome: 'accepted' };
    });
    if ('refused' in outcome) throw outcome.refused;
    return outcome.outcome;
  }

  async handleAwaiting(nodeId: string, frame: GrantAwaitingFrame): Promise<FrameOutcome> {
    const outcome = await this.store.transaction(async (tx): Promise<Decided> => {
      const { grant } = await this.forMember(tx, frame.grantId, nodeId);
      const now = new Date();
      if (frame.grantHash !== grant.grantHash) {
        const problem = `the notice is for grant hash ${frame.grantHash}, not this grant's ${grant.grantHash}`;
        await tx.audit.append(entry(nodeActor(nodeId), 'grant.decision_refused', 'failure', grant, now, { frame: frame.type, reason: problem }, nodeId));
        return { refused: new DomainError('DECISION_INVALID', problem, { grantId: grant.id }) };
      }
      const earlier = await tx.grants.findDecision(grant.id, nodeId);
      if (earlier?.verdict || earlier?.awaitingSince) return { outcome: 'duplicate' };
      await tx.grants.saveDecision({ grantId: grant.id, ...awaitingFields(nodeId, frame, earlier, now) });
      await tx.audit.append(entry(nodeActor(nodeId), 'grant.awaiting_operator', 'success', grant, now, { policyHash: frame.policyHash, rule: frame.rule, reason: frame.reason }, nodeId));
      return { outcome: 'accepted' };
    });
    if ('refused' in outcome) throw outcome.refused;
    return outcome.outcome;
  }

  /** An operator revoked the grant on its node: checked under the node's identity key, then revoked for everyone. */
  async handleRevoke(nodeId: string, frame: GrantRevokeFrame): Promise<FrameOutcome> {
    const checked = await this.store.transaction(async (tx): Promise<{ grant: GrantRecord } | { refused: DomainError }> => {
      const { grant, publicKey } = await this.forMember(tx, frame.grantId, nodeId);
      const fields = { grantId: grant.id, grantHash: grant.grantHash, reason: frame.reason, revokedAt: frame.revokedAt };
      if (publicKey !== undefined && verifyGrantRevocation(publicKey, fields, frame.signature)) return { grant };
      const problem = "the revocation's signature does not verify under the node's identity key";
      await tx.audit.append(entry(nodeActor(nodeId), 'grant.decision_refused', 'failure', grant, new Date(), { frame: frame.type, reason: problem }, nodeId));
      return { refused: new DomainError('DECISION_INVALID', problem, { grantId: grant.id }) };
    });
    if ('refused' in checked) throw checked.refused;
    if (checked.grant.status === 'revoked') return 'duplicate';
    await this.revokeAs(frame.grantId, nodeActor(nodeId), frame.reason, {}, { revokedAt: frame.revokedAt, signature: frame.signature });
    return 'accepted';
  }

  /**
   * A node authenticated: every grant of its keys still proposed or active on which it has not decided is
   * proposed to it again, and every revoked grant it approved is announced again (it may have missed it).
   */
  async onNodeConnected(nodeId: string): Promise<void> {
    const keyIds = new Set((await this.store.read.keys.listActiveForNode(nodeId)).map((k) => k.id));
    if (keyIds.size === 0) return;
    const page = async (status: GrantRecord['status']) => (await this.store.read.grants.list({ status, limit: 500, offset: 0 })).filter((g) => keyIds.has(g.keyId));
    const open = [...(await page('proposed')), ...(await page('active'))];
    const revoked = await page('revoked');
    const rows = await this.store.read.grants.listDecisions([...open, ...revoked].map((g) => g.id));
    const rowOf = new Map(rows.filter((r) => r.nodeId === nodeId).map((r) => [r.grantId, r]));
    const now = Date.now();
    const undecided = open.filter((g) => g.validUntil.getTime() > now && !rowOf.get(g.id)?.verdict);
    if (undecided.length > 0) {
      await this.store.transaction(async (tx) => {
        for (const g of undecided) await tx.grants.markProposed(g.id, [nodeId], new Date());
      });
    }
    for (const g of undecided) this.link.send(nodeId, { type: 'grant.propose', grant: g.grant, grantHash: g.grantHash });
    for (const g of revoked.filter((x) => rowOf.get(x.id)?.verdict === 'approve')) {
      this.link.send(nodeId, { type: 'grant.revoked', grantId: g.id, reason: g.revokeReason ?? 'revoked' });
    }
  }

  // ------------------------------------------------------------------ plumbing

  private async revokeAs(grantId: string, actor: Actor, reason: string, scope: GrantScopeFilter, signed?: { revokedAt: number; signature: string }): Promise<GrantRecord> {
    const result = await this.store.transaction(async (tx) => {
      const grant = await tx.grants.findByIdForUpdate(grantId);
      if (!grant || (scope.proposer !== undefined && grant.proposer !== scope.proposer)) throw new DomainError('GRANT_NOT_FOUND', `grant ${grantId} not found`);
      if (grant.status === 'revoked') return { grant, changed: false, key: null };
      const now = new Date();
      const revoked: GrantRecord = { ...grant, status: 'revoked', revokedAt: now, revokedBy: actorRef(actor), revokeReason: reason };
      await tx.grants.update(grant.id, { status: 'revoked', revokedAt: now, revokedBy: revoked.revokedBy, revokeReason: reason });
      const key = await tx.keys.findById(grant.keyId);
      const revokedEntry = entry(actor, 'grant.revoked', 'success', grant, now, { reason, previousStatus: grant.status, ...(signed ?? {}) }, actor.kind === 'node' ? actor.id : null);
      await tx.audit.append(revokedEntry);
      await tx.webhooks.enqueue(grantWebhookEvents(revoked, [revokedEntry]), now);
      return { grant: revoked, changed: true, key };
    });
    if (!result.changed) return result.grant;
    const frame: Frame = { type: 'grant.revoked', grantId: result.grant.id, reason: reason.slice(0, 500) };
    for (const m of result.key?.members ?? []) {
      if (!(actor.kind === 'node' && actor.id === m.nodeId)) this.link.send(m.nodeId, frame);
    }
    await this.cancelPending(result.grant.id, actor, reason);
    return result.grant;
  }

  /** Cancels every request under the grant that has not finished (SigningService.cancel: nodes told, commitments burned). */
  private async cancelPending(grantId: string, actor: Actor, reason: string): Promise<void> {
    const open = (await this.store.read.grants.listRequests(grantId)).filter((r) => !isTerminalRequest(r.status));
    for (const r of open) {
      try {
        await this.signing.cancel(r.id, { actor, reason: `grant ${grantId} revoked: ${reason}`.slice(0, 500) });
      } catch (e) {
        if (!(e instanceof DomainError && e.code === 'REQUEST_FINISHED')) this.logger.warn(`cancelling request ${r.id} of revoked grant ${grantId}: ${(e as Error).message}`);
      }
    }
  }

  private async activeKey(repos: Repositories, keyId: string): Promise<KeyRecord> {
    const key = await repos.keys.findById(keyId);
    if (!key) throw new DomainError('KEY_NOT_FOUND', `key ${keyId} not found`);
    if (key.status !== 'active') throw new DomainError('KEY_RETIRED', `key ${keyId} is retired`);
    return key;
  }

  /** The grant (row locked), its key, and the sender's identity key; NOT_A_MEMBER for a node outside the key. */
  private async forMember(tx: Repositories, grantId: string, nodeId: string): Promise<{ grant: GrantRecord; key: KeyRecord; publicKey: string | undefined }> {
    const grant = await tx.grants.findByIdForUpdate(grantId);
    if (!grant) throw new DomainError('GRANT_NOT_FOUND', `grant ${grantId} not found`);
    const key = await tx.keys.findById(grant.keyId);
    if (!key?.members.some((m) => m.nodeId === nodeId)) throw new DomainError('NOT_A_MEMBER', `node does not hold a share of key ${grant.keyId}`);
    const node = await tx.nodes.findById(nodeId);
    return { grant, key, publicKey: node?.publicKey };
  }
}

const SYSTEM: Actor = { kind: 'system', id: 'coordinator' };

/** An audit entry about a grant: the grant's id in the details (the log has no grant column). */
function entry(actor: Actor, action: AuditAction, outcome: 'success' | 'failure', grant: Pick<GrantRecord, 'id' | 'keyId'>, at: Date, details: Record<string, unknown>, nodeId: string | null = null): AuditEntryInput {
  const who = auditActor(actor, { grantId: grant.id, ...details });
  return { occurredAt: at, ...who, action, outcome, keyId: grant.keyId, nodeId };
}
