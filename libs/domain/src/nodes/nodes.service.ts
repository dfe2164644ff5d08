import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { isValidIdentityKey } from '#crypto';
import { CloseCode } from '#protocol';
import { DomainError } from '../errors.js';
import { STORE, type Store } from '../ports.js';
import type { NodeRecord } from '../records.js';
import { auditActor } from '../common/actor.js';
import { NODE_LINK, type Actor, type NodeLink } from '../common/tokens.js';

/**
 * NODE_ALREADY_ENROLLED for a public key some node holds. For a revoked node the message names the node
 * and both ways back, since enrolling its key again can never work: restore the node, or give the signer a
 * new identity and enroll that.
 */
function alreadyEnrolled(existing: NodeRecord): DomainError {
  const details = { nodeId: existing.id, status: existing.status };
  if (existing.status === 'revoked') {
    return new DomainError(
      'NODE_ALREADY_ENROLLED',
      `this public key belongs to node ${existing.id} (${existing.label}), which is revoked: restore it ` +
        `(POST /v1/nodes/${existing.id}/restore, or \`admin nodes restore ${existing.id}\`), or create a new identity ` +
        'on the signer with `signer init --keystore <dir> --force` and enroll that public key',
      details,
    );
  }
  return new DomainError('NODE_ALREADY_ENROLLED', `this public key is already enrolled as node ${existing.id} (${existing.label})`, details);
}

/** Enrollment, revocation and restoration of signer nodes (by their Ed25519 identity key). */
@Injectable()
export class NodesService {
  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(NODE_LINK) private readonly link: NodeLink,
  ) {}

  async enroll(input: { publicKey: string; label: string }, actor: Actor): Promise<NodeRecord> {
    if (!isValidIdentityKey(input.publicKey)) {
      throw new DomainError('VALIDATION_FAILED', 'publicKey is not a valid Ed25519 public key');
    }
    return this.store.transaction(async (tx) => {
      const existing = await tx.nodes.findByPublicKey(input.publicKey);
      if (existing) throw alreadyEnrolled(existing);
      const node: NodeRecord = {
        id: randomUUID(),
        label: input.label,
        publicKey: input.publicKey,
        status: 'active',
        createdAt: new Date(),
        revokedAt: null,
        lastSeenAt: null,
        policyHash: null,
        policyReportedAt: null,
      };
      await tx.nodes.insert(node);
      await tx.audit.append({
        occurredAt: node.createdAt,
        action: 'node.enrolled',
        outcome: 'success',
        nodeId: node.id,
        ...auditActor(actor, { label: node.label, publicKey: node.publicKey }),
      });
      return node;
    });
  }

  async revoke(nodeId: string, actor: Actor): Promise<NodeRecord> {
    const node = await this.store.transaction(async (tx) => {
      const found = await tx.nodes.findById(nodeId);
      if (!found) throw new DomainError('NODE_NOT_FOUND', `node ${nodeId} not found`);
      if (found.status === 'revoked') return found;
      const at = new Date();
      await tx.nodes.revoke(nodeId, at);
      await tx.audit.append({
        occurredAt: at,
        action: 'node.revoked',
        outcome: 'success',
        nodeId,
        ...auditActor(actor, { label: found.label }),
      });
      return { ...found, status: 'revoked' as const, revokedAt: at };
    });
    this.link.disconnect(nodeId, CloseCode.NODE_REVOKED, 'node revoked');
    return node;
  }

  /**
   * Makes a revoked node active again (the way back from a revocation for a node whose key is still
   * trusted): it may authenticate and sign again; its key memberships are unchanged. Restoring an active
   * node returns it unchanged.
   */
  async restore(nodeId: string, actor: Actor): Promise<NodeRecord> {
    return this.store.transaction(async (tx) => {
      const found = await tx.nodes.findById(nodeId);
      if (!found) throw new DomainError('NODE_NOT_FOUND', `node ${nodeId} not found`);
      if (found.status === 'active') return found;
      await tx.nodes.restore(nodeId);
      await tx.audit.append({
        occurredAt: new Date(),
        action: 'node.restored',
        outcome: 'success',
        nodeId,
        ...auditActor(actor, { label: found.label, revokedAt: found.revokedAt?.toISOString() ?? null }),
      });
      return { ...found, status: 'active' as const, revokedAt: null };
    });
  }

  async get(nodeId: string): Promise<NodeRecord> {
    const node = await this.store.read.nodes.findById(nodeId);
    if (!node) throw new DomainError('NODE_NOT_FOUND', `node ${nodeId} not found`);
    return node;
  }

  list(): Promise<NodeRecord[]> {
    return this.store.read.nodes.list();
  }

  /** The nodes among `nodeIds` connected to any live coordinator instance. */
  connectedAmong(nodeIds: readonly string[]): Promise<Set<string>> {
    return this.link.connectedAmong(nodeIds);
  }
}
