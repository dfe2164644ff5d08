import { commit, generateIdentity, hexToBytes, signShare, type CommitmentHex, type DealtKey, type IdentityKeyPair, type Nonces, type SuiteId } from '#crypto';
import { signDecision } from '#intent';
import type { NodeFrame, Outgoing, RefusalCode, SignedDecision, UnsignedDecision } from '#protocol';
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
