import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { identityVerify } from '#crypto';
import { AUTH_CHALLENGE_TTL_MS, authTranscript, type AuthChallengeFrame, type AuthResponseFrame, type Outgoing } from '#protocol';
import { DomainError } from '../errors.js';
import { STORE, type Store } from '../ports.js';
import type { NodeRecord } from '../records.js';
import { DOMAIN_SETTINGS, type DomainSettings } from '../common/tokens.js';

/** A challenge issued on one connection; used at most once. */
export interface IssuedChallenge {
  challenge: string;
  expiresAt: number;
  used: boolean;
}

/**
 * Challenge-response authentication of signer nodes: the node signs a fresh, single-use, short-lived
 * challenge bound to this coordinator's id with its enrolled Ed25519 identity key.
 */
@Injectable()
export class NodeAuthService {
  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(DOMAIN_SETTINGS) private readonly settings: DomainSettings,
  ) {}

  issueChallenge(now = Date.now()): { state: IssuedChallenge; frame: Outgoing<AuthChallengeFrame> } {
    const state: IssuedChallenge = {
      challenge: randomBytes(32).toString('hex'),
      expiresAt: now + AUTH_CHALLENGE_TTL_MS,
      used: false,
    };
    return {
      state,
      frame: {
        type: 'auth.challenge',
        coordinatorId: this.settings.coordinatorId,
        challenge: state.challenge,
        expiresAt: state.expiresAt,
      },
    };
  }

  /** Verifies the response; returns the node or throws a DomainError naming why it is refused. */
  async authenticate(
    issued: IssuedChallenge,
    response: AuthResponseFrame,
    meta: { remoteAddress: string | null },
  ): Promise<NodeRecord> {
    const now = new Date();
    const refuse = async (code: 'AUTH_FAILED' | 'CHALLENGE_EXPIRED' | 'NODE_UNKNOWN' | 'NODE_REVOKED', message: string, nodeId: string | null) => {
      await this.store.transaction((tx) =>
        tx.audit.append({
          occurredAt: now,
          actorKind: 'node',
          actorId: nodeId ?? response.publicKey,
          action: 'node.refused',
          outcome: 'failure',
          nodeId,
          details: { code, publicKey: response.publicKey, remoteAddress: meta.remoteAddress },
        }),
      );
      return new DomainError(code, message);
    };
    // A challenge is issued per connection, so its first use already wrote that connection's one audit
    // entry (node.connected or node.refused): a reuse is refused without another, so that a peer cannot
    // turn frames into audit rows.
    if (issued.used) throw new DomainError('AUTH_FAILED', 'challenge already used');
    issued.used = true;
    if (now.getTime() > issued.expiresAt) throw await refuse('CHALLENGE_EXPIRED', 'challenge expired', null);
    // The signature is checked against the presented key before the lookup, so that only the holder of
    // a key learns whether it is enrolled or revoked.
    const transcript = authTranscript(this.settings.coordinatorId, issued.challenge, response.policyHash);
    if (!identityVerify(response.publicKey, transcript, response.signature)) {
      throw await refuse('AUTH_FAILED', 'challenge signature does not verify', null);
    }
    const node = await this.store.read.nodes.findByPublicKey(response.publicKey);
    if (!node) throw await refuse('NODE_UNKNOWN', 'no node is enrolled with this public key', null);
    if (node.status === 'revoked') throw await refuse('NODE_REVOKED', 'node has been revoked', node.id);
    const { policyHash } = response;
    const reported = await this.store.transaction(async (tx) => {
      await tx.nodes.touch(node.id, now);
      await tx.audit.append({
        occurredAt: now,
        actorKind: 'node',
        actorId: node.id,
        action: 'node.connected',
        outcome: 'success',
        nodeId: node.id,
        details: { remoteAddress: meta.remoteAddress },
      });
      // A node that reports no hash (built before the report) leaves the last one it reported in place:
      // `policyReportedAt` then says how old that report is.
      if (policyHash === undefined) return null;
      const { previous } = await tx.nodes.reportPolicy(node.id, policyHash, now);
      if (previous !== policyHash) {
        // The first report too (from: null): the log then holds every policy each node has run.
        await tx.audit.append({
          occurredAt: now,
          actorKind: 'node',
          actorId: node.id,
          action: 'node.policy_changed',
          outcome: 'success',
          nodeId: node.id,
          details: { from: previous, to: policyHash },
        });
      }
      return { policyHash, policyReportedAt: now };
    });
    return { ...node, lastSeenAt: now, ...reported };
  }

  async recordDisconnect(nodeId: string, code: number): Promise<void> {
    const now = new Date();
    await this.store.transaction(async (tx) => {
      await tx.nodes.touch(nodeId, now);
      await tx.audit.append({
        occurredAt: now,
        actorKind: 'node',
        actorId: nodeId,
        action: 'node.disconnected',
        outcome: 'success',
        nodeId,
        details: { closeCode: code },
      });
    });
  }
}
