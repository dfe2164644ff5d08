import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { compareIdentifiers, getSuite, type SuiteId } from '#crypto';
import type {
  CeremonyClosedFrame,
  CeremonyParticipant,
  CeremonyResultFrame,
  CeremonyRound1Frame,
  CeremonyRound2AllFrame,
  CeremonyRound2Frame,
  CeremonyStartFrame,
  NodeFrame,
  Outgoing,
  RequestProposeFrame,
  SignedRound1,
  SignedTranscriptHash,
} from '#protocol';
import { SignerNode, type SignerNodeEvents } from '../signer-node.js';
import { FakeCoordinator, type FakeNodeConnection } from './fake-coordinator.js';
import { proposeFrame, testIntent } from './intent-fixtures.js';
import { TEST_PASSPHRASE, initTestKeystore, tempDir } from './key-fixtures.js';
import { allowAllPolicy } from './test-policy.js';

/**
 * Real signer nodes against a fake coordinator that the test drives frame by frame: an honest relay by
 * default (`runCeremony`), or whatever a malicious one would send.
 */

export interface TestNode {
  node: SignerNode;
  conn: FakeNodeConnection;
  dir: string;
  events: { name: keyof SignerNodeEvents; payload: unknown }[];
}

const CEREMONY_EVENTS = ['ceremony-started', 'ceremony-completed', 'ceremony-failed', 'ceremony-aborted', 'ceremony-quarantined'] as const;

export class CeremonyTestbed {
  readonly nodes: TestNode[] = [];

  private constructor(
    readonly root: { path: string; cleanup: () => Promise<void> },
    readonly fake: FakeCoordinator,
  ) {}

  static async create(): Promise<CeremonyTestbed> {
    return new CeremonyTestbed(await tempDir('roundtable-ceremony-'), await FakeCoordinator.start());
  }

  /** Starts `count` fresh nodes, each authenticated to the fake coordinator. */
  async startNodes(count: number, options: { refuse?: number[] } = {}): Promise<TestNode[]> {
    const started: TestNode[] = [];
    for (let i = 0; i < count; i++) {
      const dir = join(this.root.path, `node-${this.nodes.length + started.length + 1}`);
      await initTestKeystore(dir);
      started.push(await this.run(dir, options.refuse?.includes(i) ? { acceptCeremonies: false } : {}));
    }
    this.nodes.push(...started);
    return started;
  }

  /** Stops the node and starts a new process on its keystore (the DKG state in memory is gone). */
  async restart(n: TestNode): Promise<TestNode> {
    await n.node.stop();
    const again = await this.run(n.dir);
    this.nodes.push(again);
    return again;
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.node.stop()));
    await this.fake.close();
    await this.root.cleanup();
  }

  private async run(dir: string, extra: { acceptCeremonies?: boolean } = {}): Promise<TestNode> {
    const node = new SignerNode({
      keystoreDir: dir,
      passphrase: TEST_PASSPHRASE,
      coordinatorUrl: this.fake.url,
      policy: allowAllPolicy(),
      reconnect: { initialMs: 20, maxMs: 100 },
      heartbeatMs: 0,
      ...extra,
    });
    const events: TestNode['events'] = [];
    for (const name of CEREMONY_EVENTS) node.on(name, (payload: unknown) => events.push({ name, payload }));
    const connecting = this.fake.nextConnection();
    await node.start();
    const conn = await connecting;
    await conn.authenticated();
    return { node, conn, dir, events };
  }
}

export type Start = Outgoing<CeremonyStartFrame>;

export function startFrame(suite: SuiteId, group: TestNode[], overrides: Partial<Start> = {}): Start {
  const s = getSuite(suite);
  const participants: CeremonyParticipant[] = group.map((n, i) => ({
    nodeId: n.conn.nodeId!,
    identifier: s.identifier(i + 1),
    identityKey: n.node.publicKey!,
  }));
  return {
    type: 'ceremony.start',
    ceremonyId: randomUUID(),
    keyId: randomUUID(),
    suite,
    threshold: 2,
    participants,
    deadline: Date.now() + 30_000,
    ...overrides,
  };
}

export const sortSigned = (suite: SuiteId, list: SignedRound1[]): SignedRound1[] =>
  [...list].sort((a, b) => compareIdentifiers(suite, a.package.identifier, b.package.identifier));

/** Sends `ceremony.start` to every node and collects the round-1 frames. */
export async function round1(group: TestNode[], start: Start): Promise<Extract<NodeFrame, { type: 'ceremony.round1' }>[]> {
  for (const n of group) n.conn.send(start);
  return Promise.all(group.map((n) => n.conn.next('ceremony.round1')));
}

export function round1All(start: Start, packages: SignedRound1[]) {
  return { type: 'ceremony.round1.all' as const, ceremonyId: start.ceremonyId, packages, deadline: Date.now() + 30_000 };
}

export async function round2(group: TestNode[], start: Start, r1: Outgoing<CeremonyRound1Frame>[]): Promise<CeremonyRound2Frame[]> {
  const packages = sortSigned(
    start.suite,
    r1.map((f) => f.round1),
  );
  for (const n of group) n.conn.send(round1All(start, packages));
  return Promise.all(group.map((n) => n.conn.next('ceremony.round2')));
}

/** The signed transcript hash a `ceremony.round2` carries (its sender is the `from` of its shares). */
export const signedHashOf = (f: Outgoing<CeremonyRound2Frame>): SignedTranscriptHash => ({
  identifier: f.shares[0]!.from,
  transcriptHash: f.transcriptHash,
  signature: f.transcriptSignature,
});

/** What an honest coordinator sends participant `index` in round 3. */
export function round2AllFor(start: Start, index: number, r2: Outgoing<CeremonyRound2Frame>[]): Outgoing<CeremonyRound2AllFrame> {
  const me = start.participants[index]!.identifier;
  return {
    type: 'ceremony.round2.all',
    ceremonyId: start.ceremonyId,
    transcriptHash: r2[0]!.transcriptHash,
    transcripts: r2.map(signedHashOf).sort((a, b) => compareIdentifiers(start.suite, a.identifier, b.identifier)),
    shares: r2.flatMap((f) => f.shares).filter((s) => s.to === me),
    deadline: Date.now() + 30_000,
  };
}

export async function results(group: TestNode[], start: Start, r2: Outgoing<CeremonyRound2Frame>[]): Promise<CeremonyResultFrame[]> {
  group.forEach((n, i) => n.conn.send(round2AllFor(start, i, r2)));
  return Promise.all(group.map((n) => n.conn.next('ceremony.result')));
}

/** The fake coordinator relays a whole ceremony (up to the results) exactly as the contract says. */
export async function runCeremony(group: TestNode[], start: Start) {
  const r1 = await round1(group, start);
  const r2 = await round2(group, start, r1);
  const res = await results(group, start, r2);
  return { r1, r2, res };
}

/** What an honest coordinator sends when every result agreed: the key and every participant's signature. */
export function completedClose(start: Start, res: Outgoing<CeremonyResultFrame>[]): Outgoing<CeremonyClosedFrame> {
  const { groupPublicKey, commitments, verifyingShares } = res[0]!;
  return {
    type: 'ceremony.closed',
    ceremonyId: start.ceremonyId,
    status: 'completed',
    keyId: start.keyId,
    groupPublicKey,
    commitments,
    verifyingShares,
    resultSignatures: res.map((f, i) => ({ identifier: start.participants[i]!.identifier, signature: f.signature })),
  };
}

/** A signing proposal for `keyId`: answered `request.commit` when the share is usable, `request.decline` otherwise. */
export function proposal(start: Start, text = 'a message'): Outgoing<RequestProposeFrame> {
  const { v: _v, ...frame } = proposeFrame(testIntent(start.keyId, Date.now(), { payload: { kind: 'text', text }, description: text }), {
    suite: start.suite,
    threshold: start.threshold,
  });
  return frame;
}

export const waitFor = async (predicate: () => boolean, ms = 5_000) => {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

export const abortOf = async (n: TestNode) => n.conn.next('ceremony.abort');
