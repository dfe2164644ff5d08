import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, type IdentityKeyPair } from '#crypto';
import { initKeystore, KDF_COSTS, Keystore, type SignerNode, type SignerNodeEvents } from '#signer';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { RawNode } from './support/raw-node.js';
import { ScriptedParticipant } from './support/scripted-ceremony.js';
import { realSignerNode } from './support/signer-node.js';

interface CeremonyDto {
  id: string;
  keyId: string;
  status: string;
  participants: { nodeId: string; identifier: string }[];
  round1Received: string[];
  resultsReceived: string[];
  failureCode: string | null;
  failureReason: string | null;
  culprits: string[];
}

/**
 * Real signer nodes that stop and start again in the middle of a ceremony, with the real coordinator;
 * a third participant played by the test sets the pace.
 */
describe('key ceremonies across signer restarts (real coordinator, real signer nodes)', () => {
  let coord: TestCoordinator;
  const root = join(tmpdir(), `roundtable-dkg-recovery-${process.pid}-${Date.now()}`);
  const keystores = [1, 2].map((i) => join(root, `node-${i}`));
  const passphrase = (i: number) => `dkg recovery passphrase of node ${i + 1}`;
  const nodeIds: string[] = [];
  let nodes: SignerNode[] = [];
  const events: { name: keyof SignerNodeEvents; payload: unknown }[][] = [[], []];
  const pace: { identity: IdentityKeyPair; nodeId: string; raw?: RawNode } = { identity: generateIdentity(), nodeId: '' };

  const startNode = async (i: number): Promise<SignerNode> => {
    const node = realSignerNode(coord, keystores[i]!, passphrase(i));
    for (const name of ['ceremony-completed', 'ceremony-failed', 'ceremony-aborted', 'ceremony-quarantined'] as const) {
      node.on(name, (payload: unknown) => events[i]!.push({ name, payload }));
    }
    await node.start();
    nodes[i] = node;
    return node;
  };

  const ceremony = async (id: string) => (await coord.api<CeremonyDto>('GET', `/v1/ceremonies/${id}`)).body;
  const until = async <T>(read: () => T | Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      if (Date.now() > end) throw new Error(`condition not met in time: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const connected = () => until(async () => (await coord.api<{ id: string; connected: boolean }[]>('GET', '/v1/nodes')).body, (l) => l.filter((n) => n.connected).length === 3);

  /** Starts a 2-of-3 ceremony among both signer nodes and the scripted participant. */
  async function startCeremony(): Promise<{ c: CeremonyDto; m: ScriptedParticipant }> {
    await connected();
    const res = await coord.api<CeremonyDto>('POST', '/v1/ceremonies', { suite: 'ed25519', threshold: 2, nodeIds: [...nodeIds, pace.nodeId] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const m = new ScriptedParticipant(pace.raw!, pace.identity, pace.nodeId);
    await m.receiveStart(res.body.id);
    return { c: res.body, m };
  }

  beforeAll(async () => {
    coord = await startTestCoordinator();
    for (const [i, dir] of keystores.entries()) {
      const { publicKey } = await initKeystore({ keystore: dir, passphrase: passphrase(i), kdfCost: KDF_COSTS.test });
      nodeIds.push((await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey, label: `node-${i + 1}` })).body.id);
    }
    pace.nodeId = (await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey: pace.identity.publicKey, label: 'scripted' })).body.id;
    pace.raw = await RawNode.connect(coord.wsUrl, pace.identity);
    await pace.raw.next('auth.ok');
    nodes = [];
    for (const i of [0, 1]) await startNode(i);
  });

  afterAll(async () => {
    pace.raw?.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await coord?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('a node stopped after its result misses the close; restarted, it asks, confirms the registered key and signs with it', async () => {
    const { c, m } = await startCeremony();
    m.makeRound1();
    m.sendRound1();
    await m.round2();
    // Both signer nodes have sent their results (their shares are stored, pending); node 1 stops.
    await until(() => ceremony(c.id), (v) => nodeIds.every((id) => v.resultsReceived.includes(id)));
    await nodes[0]!.stop();
    await m.round3();
    expect((await m.closed()).status).toBe('completed');
    expect((await ceremony(c.id)).status).toBe('completed');
    await until(() => events[1]!.map((e) => e.name), (names) => names.includes('ceremony-completed'));
    const stopped = await Keystore.open(keystores[0]!, { passphrase: passphrase(0) });
    expect(await stopped.listPending()).toEqual([c.keyId]);

    await startNode(0);
    await until(() => events[0]!.map((e) => e.name), (names) => names.includes('ceremony-completed'));
    expect(events[0]!.map((e) => e.name)).toEqual(['ceremony-completed']);
    expect(await stopped.listPending()).toEqual([]);

    // The two signer nodes sign with the key (the scripted participant never answers proposals).
    await connected();
    const created = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId: c.keyId, message: 'signed after a missed close' });
    expect(created.status).toBe(201);
    const done = (await coord.api<{ status: string }>('GET', `/v1/signing-requests/${created.body.id}?waitMs=20000`)).body;
    expect(done.status).toBe('completed');
  });

  it('a node restarted in round 1 fails the ceremony STATE_LOST when round 2 opens; nothing is left on its disk', async () => {
    const { c, m } = await startCeremony();
    const first = c.participants[0]!.identifier;
    await until(() => ceremony(c.id), (v) => v.round1Received.includes(first));
    await nodes[0]!.stop();
    await startNode(0);
    await connected();
    m.makeRound1();
    m.sendRound1();
    const closed = await m.closed();
    expect(closed.status).toBe('failed');
    const failed = await ceremony(c.id);
    expect(failed.failureCode).toBe('STATE_LOST');
    expect(failed.failureReason).toMatch(new RegExp(`node \\S+ \\(${nodeIds[0]}\\) aborted the ceremony: STATE_LOST: .*restarted`));
    expect(failed.culprits).toEqual([]);
    const keystore = await Keystore.open(keystores[0]!, { passphrase: passphrase(0) });
    expect(await keystore.findShare(c.keyId)).toBeNull();
    expect(await keystore.listPending()).toEqual([]);
    // The other signer node, which had stored nothing yet either, keeps nothing.
    await until(() => events[1]!.filter((e) => e.name === 'ceremony-failed').length, (n) => n >= 1);
    expect(await (await Keystore.open(keystores[1]!, { passphrase: passphrase(1) })).findShare(c.keyId)).toBeNull();
  });
});
