import { join } from 'node:path';
import { generateIdentity, identitySign, sortCommitments, type CommitmentHex } from '#crypto';
import { signDecision } from '#intent';
import type { AttemptPackageFrame, Intent, RequestProposeFrame } from '#protocol';
import { ApprovalQueue, type ApprovalRecordStore } from '../approvals/approval-queue.js';
import { GrantStore } from '../grants/grant-store.js';
import { NodeGrants, type NodeGrantsOptions } from '../grants/node-grants.js';
import type { Keystore } from '../keystore/keystore.js';
import type { KeyShare } from '../keystore/keystore-records.js';
import { NonceStore } from '../nonces/nonce-store.js';
import type { NodePolicy } from '../policy/policy-types.js';
import { SigningService } from '../signing/signing-service.js';
import { intentDigest, proposeFrame, testIntent } from './intent-fixtures.js';
import { commitAs, dealTestKey, initTestKeystore, tempDir, testJournalLocation, type DealtTestKey } from './key-fixtures.js';
import { allowAllPolicy } from './test-policy.js';

/** An in-memory approval store (the durable one is the keystore's approvals/ directory). */
export class MemoryApprovalStore implements ApprovalRecordStore {
  readonly records = new Map<string, unknown>();
  write(id: string, record: object): Promise<void> {
    this.records.set(id, structuredClone(record));
    return Promise.resolve();
  }
  read(id: string): Promise<unknown> {
    return Promise.resolve(structuredClone(this.records.get(id) ?? null));
  }
  list(): Promise<string[]> {
    return Promise.resolve([...this.records.keys()].sort());
  }
  remove(id: string): Promise<void> {
    this.records.delete(id);
    return Promise.resolve();
  }
}

export interface ServiceFixture {
  dir: { path: string; cleanup: () => Promise<void> };
  key: DealtTestKey;
  share: KeyShare;
  nonces: NonceStore;
  /** The node's identity (its decisions verify under `identity.publicKey`). */
  identity: { publicKey: string; secretKey: string };
  approvals: ApprovalQueue;
  /** The node's grants (in the keystore's grants/ directory when `durable`). */
  grants: NodeGrants;
  clock: { now: number };
  service: SigningService;
  /** A proposal of `intent` (default: a test intent) as an honest coordinator sends it. */
  propose(over?: Partial<Intent>, frame?: Partial<RequestProposeFrame>): RequestProposeFrame;
  /** A package for `p` naming `own` and signer 2's commitment, carrying the intent's digest. */
  packageFor(p: RequestProposeFrame, own: CommitmentHex, over?: Partial<AttemptPackageFrame>): AttemptPackageFrame;
  /** A new service over the same nonces, approvals and grants stores (a node restart keeps them on disk). */
  restart(policy?: NodePolicy): Promise<SigningService>;
  close(): Promise<void>;
}

/**
 * A signing service on a 2-of-3 secp256k1 key, holding participant 1's share, with a real nonce
 * journal, an approvals queue (in the keystore's approvals/ directory when `durable`), and a clock.
 */
export async function serviceFixture(
  options: { policy?: NodePolicy; durable?: boolean; grantOptions?: Partial<NodeGrantsOptions> } = {},
): Promise<ServiceFixture> {
  const dir = await tempDir();
  const key = await dealTestKey(dir.path, { suite: 'secp256k1', threshold: 2, maxSigners: 3, withKeystores: 0 });
  const identifier = key.identifiers[0]!;
  const share: KeyShare = { keyId: key.keyId, suite: key.suite, identifier, signingShare: key.secretShares[identifier]!, publicPackage: key.publicPackage };
  const clock = { now: 1_000_000 };
  let nonces = await NonceStore.open(await testJournalLocation(join(dir.path, 'nonces.jsonl')));
  let keystore: Keystore | undefined;
  let identity: { publicKey: string; secretKey: string };
  let store: ApprovalRecordStore;
  let grantRecords: ApprovalRecordStore;
  if (options.durable) {
    keystore = await initTestKeystore(join(dir.path, 'ks'));
    store = keystore.approvalRecords;
    grantRecords = keystore.grantRecords;
    identity = { publicKey: keystore.publicKey, secretKey: '' };
  } else {
    identity = generateIdentity();
    store = new MemoryApprovalStore();
    grantRecords = new MemoryApprovalStore();
  }
  const decisions = keystore ?? { signDecision: (d: Parameters<typeof signDecision>[1]) => signDecision(identity.secretKey, d) };
  const signer = keystore ?? { signWithIdentity: (m: Uint8Array) => identitySign(identity.secretKey, m) };
  const build = async (policy: NodePolicy) => {
    const approvals = await ApprovalQueue.open(store);
    const grants = new NodeGrants({ store: await GrantStore.open(grantRecords), policy, signer, now: () => clock.now, ...options.grantOptions });
    const service = new SigningService({
      shares: { findShare: (keyId) => Promise.resolve(keyId === key.keyId ? share : null) },
      nonces,
      policy,
      decisions,
      approvals,
      grants,
      now: () => clock.now,
    });
    return { approvals, grants, service };
  };
  const first = await build(options.policy ?? allowAllPolicy());
  let restarts = 0;
  const fixture: ServiceFixture = {
    dir,
    key,
    share,
    nonces,
    identity,
    approvals: first.approvals,
    grants: first.grants,
    clock,
    service: first.service,
    propose: (over = {}, frame = {}) => ({ ...proposeFrame(testIntent(key.keyId, clock.now, over), { suite: 'secp256k1', threshold: 2 }), ...frame }),
    packageFor: (p, own, over = {}) => ({
      v: 1,
      type: 'attempt.package',
      requestId: p.requestId,
      attemptId: crypto.randomUUID(),
      keyId: key.keyId,
      message: intentDigest(p.intent),
      commitments: sortCommitments('secp256k1', [own, commitAs(key, 1)]),
      deadline: p.intent.deadline,
      ...over,
    }),
    restart: async (policy) => {
      await nonces.close();
      // Each restart gets its own journal (a test journal's key is new each time it is made).
      restarts += 1;
      nonces = await NonceStore.open(await testJournalLocation(join(dir.path, restarts === 1 ? 'nonces-restarted.jsonl' : `nonces-restarted-${restarts}.jsonl`)));
      fixture.nonces = nonces;
      const next = await build(policy ?? options.policy ?? allowAllPolicy());
      fixture.approvals = next.approvals;
      fixture.grants = next.grants;
      fixture.service = next.service;
      return next.service;
    },
    close: async () => {
      await nonces.close();
      await dir.cleanup();
    },
  };
  return fixture;
}
