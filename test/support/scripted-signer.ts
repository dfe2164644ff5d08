import { commit, generateIdentity, hexToBytes, signShare, type CommitmentHex, type DealtKey, type IdentityKeyPair, type Nonces, type SuiteId } from '#crypto';
import { signDecision, signGrantDecision, signGrantRevocation } from '#intent';
import type { Grant, NodeFrame, Outgoing, RefusalCode, SignedDecision, SignedGrantDecision, UnsignedDecision, UnsignedGrantDecision } from '#protocol';
import { expect } from 'vitest';
import { dealtKeyRegistration } from './keys.js';
import type { TestCoordinator } from './coordinator.js';
import { RawNode } from './raw-node.js';

/** The policy hash scripted nodes sign their decisions with (they have no policy document). */
export const SCRIPTED_POLICY_HASH = 'ab'.repeat(32);

type CommitFrame = Extract<Outgoing<NodeFrame>, { type: 'request.commit' }>;

/** A raw node that holds a real share and answers like an honest signer when told to. */
export class ScriptedSigner {
  readonly nonces = new Map<string, { nonces: Nonces; commitment: CommitmentHex }>();
  readonly grants = new Map<string, { grant: Grant; grantHash: string }>();
  constructor(
    readonly node: RawNode,
    readonly identifier: string,
    readonly key: DealtKey,
    readonly suite: SuiteId = 'secp256k1',
  ) {}

  makeCommitment(): CommitmentHex {
    const c = commit(this.suite, this.identifier, this.key.secretShares[this.identifier]!);
    this.nonces.set(c.commitment.hiding, c);
    return c.commitment;
  }

  share(pkg: { commitments: CommitmentHex[]; message: string }): string {
    const mine = pkg.commitments.find((c) => c.identifier === this.identifier)!;
    const { nonces } = this.nonces.get(mine.hiding)!;
    return signShare(this.key.public, this.identifier, this.key.secretShares[this.identifier]!, nonces, pkg.commitments, hexToBytes(pkg.message));
  }

  /** The intent hash of the request as this node was proposed it (it must have received the proposal). */
  intentHashOf(requestId: string): string {
    const proposal = this.node.proposals.get(requestId.toLowerCase());
    if (!proposal) throw new Error(`scripted node ${this.identifier.slice(-4)} was not proposed request ${requestId}`);
    return proposal.intentHash;
  }

  /** Its decision on the request as proposed, signed by its identity key (fields overridable, then signed). */
  decision(requestId: string, verdict: SignedDecision['verdict'] = 'approve', overrides: Partial<UnsignedDecision> = {}): SignedDecision {
    return signDecision(this.node.identity.secretKey, {
      requestId: requestId.toLowerCase(),
      intentHash: this.intentHashOf(requestId),
      verdict,
      by: 'policy',
      policyHash: SCRIPTED_POLICY_HASH,
      rule: 'scripted',
      reason: verdict === 'approve' ? 'scripted approval' : 'scripted decline',
      decidedAt: Date.now(),
      ...overrides,
    });
  }

  /** A `request.commit` with a fresh commitment (or `commitment`) and its signed approval (or `decision`). */
  commitFrame(requestId: string, commitment: CommitmentHex = this.makeCommitment(), decision: SignedDecision = this.decision(requestId)): CommitFrame {
    return { type: 'request.commit', requestId, commitment, decision };
  }

  /** Sends `commitFrame(...)`; returns the commitment. */
  commit(requestId: string, commitment: CommitmentHex = this.makeCommitment(), decision?: SignedDecision): CommitmentHex {
    this.node.send(this.commitFrame(requestId, commitment, decision));
    return commitment;
  }

  /** The grant as this node was proposed it (waits for its `grant.propose`). */
  async grantProposal(grantId: string): Promise<{ grant: Grant; grantHash: string }> {
    const known = this.grants.get(grantId);
    if (known) return known;
    const f = await this.node.next('grant.propose', (x) => x.grant.id === grantId);
    const proposal = { grant: f.grant, grantHash: f.grantHash };
    this.grants.set(grantId, proposal);
    return proposal;
  }

  /** Its signed decision on a grant it was proposed (fields overridable, then signed). */
  async grantDecision(grantId: string, verdict: SignedGrantDecision['verdict'] = 'approve', overrides: Partial<UnsignedGrantDecision> = {}): Promise<SignedGrantDecision> {
    const { grantHash } = await this.grantProposal(grantId);
    return signGrantDecision(this.node.identity.secretKey, {
      grantId,
      grantHash,
      verdict,
      by: 'policy',
      policyHash: SCRIPTED_POLICY_HASH,
      rule: 'scripted',
      reason: verdict === 'approve' ? 'scripted grant approval' : 'scripted grant decline',
      decidedAt: Date.now(),
      ...overrides,
    });
  }

  /** Sends `grant.decision` (its own signed decision unless `decision` is given) and waits for the answer. */
  async decideGrant(grantId: string, verdict: SignedGrantDecision['verdict'] = 'approve', decision?: SignedGrantDecision) {
    this.node.send({ type: 'grant.decision', grantId, decision: decision ?? (await this.grantDecision(grantId, verdict)) });
    return this.grantAnswer(grantId, 'grant.decision');
  }

  /** Its operator revoked the grant here: a signed `grant.revoke` (signed by `signer`'s key, its own by default). */
  async revokeGrant(grantId: string, reason = 'operator kill switch', secretKey = this.node.identity.secretKey) {
    const { grantHash } = await this.grantProposal(grantId);
    const revokedAt = Date.now();
    this.node.send({ type: 'grant.revoke', grantId, reason, revokedAt, signature: signGrantRevocation(secretKey, { grantId, grantHash, reason, revokedAt }) });
    return this.grantAnswer(grantId, 'grant.revoke');
  }

  /** The coordinator's ack or error for this node's last grant frame of `of`. */
  grantAnswer(grantId: string, of: 'grant.decision' | 'grant.awaiting' | 'grant.revoke') {
    return Promise.race([
      this.node.next('ack', (f) => f.of === of && f.grantId === grantId),
      this.node.next('error', (f) => f.inReplyTo === of && f.grantId === grantId),
    ]);
  }

  /** Declines; a POLICY_DENIED or OPERATOR_REJECTED decline carries its signed decision, as a real node's does. */
  decline(requestId: string, code: RefusalCode = 'POLICY_DENIED', reason = 'scripted decline'): void {
    const decided = code === 'POLICY_DENIED' || code === 'OPERATOR_REJECTED';
    this.node.send({
      type: 'request.decline',
      requestId,
      code,
      reason,
      ...(decided ? { decision: this.decision(requestId, 'decline', { reason, by: code === 'OPERATOR_REJECTED' ? 'operator' : 'policy' }) } : {}),
    });
  }
}

/**
 * `n` enrolled nodes (labels node-1..node-n), a dealt `threshold`-of-n secp256k1 key registered for them,
 * and one authenticated scripted signer per node.
 */
export async function scriptedSigners(
  coord: TestCoordinator,
  threshold: number,
  n: number,
): Promise<{ key: DealtKey; keyId: string; nodeIds: string[]; identities: IdentityKeyPair[]; signers: ScriptedSigner[] }> {
  const identities = Array.from({ length: n }, () => generateIdentity());
  const nodeIds: string[] = [];
  for (const [i, id] of identities.entries()) {
    const res = await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey: id.publicKey, label: `node-${i + 1}` });
    expect(res.status).toBe(201);
    nodeIds.push(res.body.id);
  }
  const dealt = dealtKeyRegistration('secp256k1', threshold, nodeIds);
  const res = await coord.api<{ id: string }>('POST', '/v1/keys', dealt.body);
  expect(res.status).toBe(201);
  const identifiers = Object.keys(dealt.key.public.verifyingShares);
  const signers = await Promise.all(
    identities.map(async (id, i) => {
      const node = await RawNode.connect(coord.wsUrl, id);
      await node.next('auth.ok');
      return new ScriptedSigner(node, identifiers[i]!, dealt.key);
    }),
  );
  return { key: dealt.key, keyId: res.body.id, nodeIds, identities, signers };
}
