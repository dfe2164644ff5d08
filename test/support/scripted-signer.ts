import { commit, generateIdentity, hexToBytes, signShare, type CommitmentHex, type DealtKey, type IdentityKeyPair, type Nonces, type SuiteId } from '#crypto';
import { expect } from 'vitest';
import { dealtKeyRegistration } from './keys.js';
import type { TestCoordinator } from './coordinator.js';
import { RawNode } from './raw-node.js';

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
