import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bytesToHex,
  ceremonyResultTranscript,
  ceremonyRound1Transcript,
  generateIdentity,
  getSuite,
  identitySign,
  identityVerify,
  sha256Hex,
  type IdentityKeyPair,
  type SuiteId,
} from '#crypto';
import type { CeremonyParticipant } from '#protocol';
import { scanForSecrets } from './support/secret-scan.js';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { RawNode } from './support/raw-node.js';
import { ScriptedParticipant } from './support/scripted-ceremony.js';

interface CeremonyDto {
  id: string;
  keyId: string;
  status: string;
  participants: CeremonyParticipant[];
  failureCode: string | null;
  failureReason: string | null;
  culpritNodeId: string | null;
  culprits: string[];
  transcriptHash: string | null;
}

describe('key ceremonies (DKG) against scripted nodes (real app, real ws, real database)', () => {
  let coord: TestCoordinator;
  const identities: IdentityKeyPair[] = [generateIdentity(), generateIdentity(), generateIdentity(), generateIdentity()];
  const nodeIds: string[] = [];
  let nodes: ScriptedParticipant[] = [];
  let completedKeyId = '';
  let completedNodes: ScriptedParticipant[] = [];

  beforeAll(async () => {
    coord = await startTestCoordinator();
    for (const [i, id] of identities.entries()) {
      const res = await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey: id.publicKey, label: `node-${i + 1}` });
      expect(res.status).toBe(201);
      nodeIds.push(res.body.id);
    }
    nodes = await Promise.all(
      identities.map(async (id, i) => {
        const node = await RawNode.connect(coord.wsUrl, id);
        await node.next('auth.ok');
        return new ScriptedParticipant(node, id, nodeIds[i]!);
      }),
    );
  });

  afterAll(async () => {
    // Every frame the coordinator sent during the suite matched the protocol's schemas.
    expect(nodes.flatMap((n) => n.node.invalidFrames)).toEqual([]);
    nodes.forEach((n) => n.node.close());
    await coord?.destroy();
  });

  async function start(participants: ScriptedParticipant[], suite: SuiteId = 'secp256k1', threshold = 2, deadlineMs?: number): Promise<CeremonyDto> {
    const res = await coord.api<CeremonyDto>('POST', '/v1/ceremonies', {
      suite,
      threshold,
      nodeIds: participants.map((p) => p.nodeId),
      ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await Promise.all(participants.map((p) => p.receiveStart(res.body.id)));
    return res.body;
  }

  const ceremony = async (id: string) => (await coord.api<CeremonyDto>('GET', `/v1/ceremonies/${id}`)).body;

  it('a 2-of-3 secp256k1 ceremony completes and registers the key the nodes derived', async () => {
    const three = nodes.slice(0, 3);
    const c = await start(three);
    expect(c.status).toBe('round1');
    expect(c.participants.map((p) => p.identifier)).toEqual([1, 2, 3].map((i) => getSuite('secp256k1').identifier(i)));
    for (const p of three) {
      p.makeRound1();
      p.sendRound1();
    }
    const originalSecret = three[0]!.secret;
    await Promise.all(three.map((p) => p.node.next('ack', (f) => f.of === 'ceremony.round1' && f.ceremonyId === c.id)));
    // A repeated identical package is acknowledged again (idempotent).
    const original = three[0]!.signed;
    three[0]!.sendRound1();
    await three[0]!.node.next('ack', (f) => f.of === 'ceremony.round1' && f.ceremonyId === c.id);
    // Equivocation: a second, different round-1 package from the same node is refused; the first stands.
    const other = three[0]!.makeRound1();
    three[0]!.sendRound1(other);
    expect((await three[0]!.node.next('error', (f) => f.ceremonyId === c.id)).code).toBe('CEREMONY_CONFLICT');
    three[0]!.signed = original;
    three[0]!.secret = originalSecret;
    await Promise.all(three.map((p) => p.round2()));
    await Promise.all(three.map((p) => p.round3()));
    const closed = await Promise.all(three.map((p) => p.closed()));
    expect(closed.map((f) => f.status)).toEqual(['completed', 'completed', 'completed']);
    expect(closed[0]!.keyId).toBe(c.keyId);
    // The close carries the registered key and every participant's signature over that same result.
    const derived = three[0]!.derived!;
    const close = closed[0]!;
    expect(close.groupPublicKey).toBe(bytesToHex(derived.commitments[0]!));
    expect(close.commitments).toEqual(derived.commitments.map(bytesToHex));
    const signed = ceremonyResultTranscript({
      ceremonyId: c.id,
      keyId: c.keyId,
      groupPublicKey: close.groupPublicKey!,
      commitments: close.commitments!,
      verifyingShares: close.verifyingShares!,
    });
    expect(close.resultSignatures!.map((r) => r.identifier)).toEqual(c.participants.map((p) => p.identifier));
    for (const r of close.resultSignatures!) {
      expect(identityVerify(c.participants.find((p) => p.identifier === r.identifier)!.identityKey, signed, r.signature)).toBe(true);
    }
    expect(closed[1]).toEqual(close);
    // A participant that asks how the ceremony ended gets the same close again, then the ack.
    three[1]!.query();
    expect(await three[1]!.node.next('ceremony.closed', (f) => f.ceremonyId === c.id)).toEqual(close);
    await three[1]!.node.next('ack', (f) => f.of === 'ceremony.query' && f.ceremonyId === c.id);

    const done = await ceremony(c.id);
    expect(done.status).toBe('completed');
    expect(done.transcriptHash).toMatch(/^[0-9a-f]{64}$/);
    const key = (await coord.api<{ id: string; groupPublicKey: string; origin: string; status: string; members: { nodeId: string; identifier: string }[] }>('GET', `/v1/keys/${c.keyId}`)).body;
    expect(key.groupPublicKey).toBe(bytesToHex(three[0]!.derived!.commitments[0]!));
    expect(key.origin).toBe(`ceremony:${c.id}`);
    expect(key.status).toBe('active');
    expect(key.members.map((m) => m.nodeId).sort()).toEqual(three.map((p) => p.nodeId).sort());
    const audit = (await coord.api<{ entries: { action: string }[] }>('GET', `/v1/audit?keyId=${c.keyId}`)).body.entries.map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['ceremony.started', 'ceremony.round1_received', 'ceremony.round2_received', 'ceremony.result_received', 'key.registered', 'ceremony.completed']));
    expect((await coord.api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok).toBe(true);
    completedKeyId = c.keyId;
    completedNodes = three;
  });

  it('after a completed ceremony no row of any table holds a secret (shares sent, received or kept)', async () => {
    const secrets = completedNodes.flatMap((p) => p.secrets);
    expect(secrets.length).toBe(3 * (2 + 2 + 1));
    const { rows, tablesWithSecrets } = await scanForSecrets(coord.app, secrets);
    expect(tablesWithSecrets).toEqual([]);
    // The sealed shares themselves are stored (ciphertext only).
    expect((await coord.app.get(DataSource).query<unknown[]>('SELECT 1 FROM ceremony_round2')).length).toBe(6);
    expect(rows).toBeGreaterThan(20);
  });

  it('a node that reports a different round-1 view (transcript hash) fails the ceremony, named', async () => {
    const three = nodes.slice(0, 3);
    const c = await start(three);
    for (const p of three) {
      p.makeRound1();
      p.sendRound1();
    }
    await three[0]!.round2();
    await three[1]!.round2();
    await three[2]!.round2({ transcriptHash: sha256Hex('a different round-1 set') });
    const closed = await Promise.all(three.map((p) => p.closed()));
    expect(closed.every((f) => f.status === 'failed' && f.reason?.includes('TRANSCRIPT_MISMATCH'))).toBe(true);
    const failed = await ceremony(c.id);
    expect(failed.status).toBe('failed');
    expect(failed.failureCode).toBe('TRANSCRIPT_MISMATCH');
    expect(failed.failureReason).toContain(`inconsistent: node-3 (${three[2]!.nodeId})`);
    expect(failed.culprits).toEqual([three[2]!.nodeId]);
    expect(failed.culpritNodeId).toBe(three[2]!.nodeId);
    // Asked afterwards, the coordinator tells the same failure.
    three[0]!.query();
    const again = await three[0]!.node.next('ceremony.closed', (f) => f.ceremonyId === c.id);
    expect(again).toEqual(closed[0]);
    // Frames for a finished ceremony are refused.
    three[0]!.sendRound1();
    expect((await three[0]!.node.next('error', (f) => f.ceremonyId === c.id)).code).toBe('CEREMONY_FINISHED');
  });

  it('refuses a replayed round-1 package (signed for an earlier ceremony), non-participants and unknown ceremonies', async () => {
    const [a, b] = nodes;
    const first = await start([a!, b!]);
    const old = a!.makeRound1();
    a!.sendRound1();
    await a!.node.next('ack', (f) => f.of === 'ceremony.round1' && f.ceremonyId === first.id);
    const second = await start([a!, b!]);
    // The same package, still signed for the first ceremony, sent for the second.
    a!.sendRound1(old);
    expect((await a!.node.next('error', (f) => f.ceremonyId === second.id)).code).toBe('BAD_SIGNATURE');
    // The same package re-signed for the second ceremony under another identity key.
    const forged = { package: old.package, signature: identitySign(identities[3]!.secretKey, ceremonyRound1Transcript(second.id, old.package)) };
    a!.sendRound1(forged);
    expect((await a!.node.next('error', (f) => f.ceremonyId === second.id)).code).toBe('BAD_SIGNATURE');
    // A node that is not a participant.
    nodes[3]!.node.send({ type: 'ceremony.round1', ceremonyId: second.id, round1: old });
    expect((await nodes[3]!.node.next('error', (f) => f.ceremonyId === second.id)).code).toBe('NOT_A_PARTICIPANT');
    // A ceremony nobody started.
    const unknown = '00000000-0000-4000-8000-000000000000';
    a!.node.send({ type: 'ceremony.round1', ceremonyId: unknown, round1: old });
    expect((await a!.node.next('error', (f) => f.ceremonyId === unknown)).code).toBe('CEREMONY_NOT_FOUND');
    // A round-2 frame while round 1 is open.
    const share = { from: a!.me.identifier, to: b!.me.identifier, ephemeral: 'ab'.repeat(32), nonce: 'cd'.repeat(24), ciphertext: 'ef'.repeat(48) };
    a!.node.send({ type: 'ceremony.round2', ceremonyId: second.id, transcriptHash: sha256Hex('x'), transcriptSignature: 'ab'.repeat(64), shares: [share] });
    expect((await a!.node.next('error', (f) => f.ceremonyId === second.id)).code).toBe('CEREMONY_ROUND_MISMATCH');
    // Node b stops both ceremonies, naming node a as the culprit in the second.
    for (const [c, culprit] of [[first, undefined], [second, a!.me.identifier]] as const) {
      b!.node.send({ type: 'ceremony.abort', ceremonyId: c.id, code: 'BAD_PROOF', reason: 'scripted abort', ...(culprit ? { culprit } : {}) });
      expect((await a!.node.next('ceremony.closed', (f) => f.ceremonyId === c.id)).status).toBe('failed');
    }
    const aborted = await ceremony(second.id);
    expect(aborted.failureCode).toBe('BAD_PROOF');
    expect(aborted.culpritNodeId).toBe(a!.nodeId);
  });

  it('a node that never sends round 2 fails the ceremony at the round deadline, named', async () => {
    const three = nodes.slice(0, 3);
    const c = await start(three, 'ed25519', 2, 1_500);
    for (const p of three) {
      p.makeRound1();
      p.sendRound1();
    }
    await three[0]!.round2();
    await three[1]!.round2();
    // three[2] stays silent in round 2.
    const closed = await three[0]!.closed(10_000);
    expect(closed.status).toBe('failed');
    expect(closed.reason).toContain(three[2]!.nodeId);
    const failed = await ceremony(c.id);
    expect(failed.failureCode).toBe('DEADLINE_PASSED');
    // Named by label as well as id.
    expect(failed.failureReason).toMatch(new RegExp(`in time from node-\\d \\(${three[2]!.nodeId}\\)$`));
    expect(failed.culprits).toEqual([three[2]!.nodeId]);
  });

  it('refuses to start with bad parameters or a disconnected node', async () => {
    const bad = async (body: unknown) => (await coord.api<{ error: { code: string } }>('POST', '/v1/ceremonies', body)).body.error.code;
    const ids = nodeIds.slice(0, 3);
    expect(await bad({ suite: 'secp256k1', threshold: 4, nodeIds: ids })).toBe('VALIDATION_FAILED');
    expect(await bad({ suite: 'secp256k1', threshold: 2, nodeIds: [ids[0], ids[0]] })).toBe('VALIDATION_FAILED');
    expect(await bad({ suite: 'secp256k1', threshold: 2, nodeIds: [ids[0], '00000000-0000-4000-8000-000000000000'] })).toBe('NODE_NOT_FOUND');
    const offline = generateIdentity();
    const enrolled = await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey: offline.publicKey, label: 'offline' });
    expect(await bad({ suite: 'secp256k1', threshold: 2, nodeIds: [ids[0], enrolled.body.id] })).toBe('NODE_NOT_CONNECTED');
    const list = await coord.api<CeremonyDto[]>('GET', '/v1/ceremonies?status=completed');
    expect(list.body.map((c) => c.keyId)).toContain(completedKeyId);
  });

  it('a node that reconnects mid-ceremony gets the frame it missed again and the ceremony completes', async () => {
    const [a, b] = nodes;
    const c = await start([a!, b!], 'ristretto255');
    // b drops its connection before answering, then comes back (same identity).
    b!.node.close();
    await b!.node.closed();
    const again = new ScriptedParticipant(await RawNode.connect(coord.wsUrl, b!.identity), b!.identity, b!.nodeId);
    nodes[1] = again;
    await again.node.next('auth.ok');
    await again.receiveStart(c.id);
    for (const p of [a!, again]) {
      p.makeRound1();
      p.sendRound1();
    }
    await Promise.all([a!, again].map((p) => p.round2()));
    await Promise.all([a!, again].map((p) => p.round3()));
    expect((await again.closed()).status).toBe('completed');
    expect((await ceremony(c.id)).status).toBe('completed');
  });

  it('refuses a transcript hash not signed by its sender, and answers a query for an open ceremony with the ack only', async () => {
    const [a, b] = nodes;
    const c = await start([a!, b!], 'p256');
    for (const p of [a!, b!]) {
      p.makeRound1();
      p.sendRound1();
    }
    // A query while the ceremony is open: only the ack (the close follows when it ends); a stranger's is refused.
    a!.query();
    await a!.node.next('ack', (f) => f.of === 'ceremony.query' && f.ceremonyId === c.id);
    nodes[3]!.node.send({ type: 'ceremony.query', ceremonyId: c.id });
    expect((await nodes[3]!.node.next('error', (f) => f.ceremonyId === c.id)).code).toBe('NOT_A_PARTICIPANT');
    // Signed by another identity, or for another ceremony: BAD_SIGNATURE, nothing stored.
    await a!.round2({ transcriptSignature: identitySign(identities[3]!.secretKey, new TextEncoder().encode('not the transcript')) });
    expect((await a!.node.next('error', (f) => f.ceremonyId === c.id && f.inReplyTo === 'ceremony.round2')).code).toBe('BAD_SIGNATURE');
    a!.node.send({
      type: 'ceremony.round2',
      ceremonyId: c.id,
      transcriptHash: a!.transcriptHash(a!.round1All),
      transcriptSignature: a!.signTranscriptHash(a!.transcriptHash(a!.round1All), '00000000-0000-4000-8000-000000000000'),
      shares: [{ from: a!.me.identifier, to: b!.me.identifier, ephemeral: 'ab'.repeat(32), nonce: 'cd'.repeat(24), ciphertext: 'ef'.repeat(48) }],
    });
    expect((await a!.node.next('error', (f) => f.ceremonyId === c.id && f.inReplyTo === 'ceremony.round2')).code).toBe('BAD_SIGNATURE');
    expect((await ceremony(c.id)).status).toBe('round2');
    b!.node.send({ type: 'ceremony.abort', ceremonyId: c.id, code: 'STATE_LOST', reason: 'this node restarted' });
    const closed = await a!.closed();
    expect(closed.reason).toContain('STATE_LOST');
    expect((await ceremony(c.id)).failureCode).toBe('STATE_LOST');
  });

  it('a retired key refuses new signing requests (KEY_RETIRED, 410)', async () => {
    const retired = await coord.api<{ status: string; origin: string }>('POST', `/v1/keys/${completedKeyId}/retire`);
    expect(retired.status).toBe(200);
    expect(retired.body.status).toBe('retired');
    const res = await coord.api<{ error: { code: string } }>('POST', '/v1/signing-requests', { keyId: completedKeyId, message: 'too late' });
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe('KEY_RETIRED');
    const audit = (await coord.api<{ entries: { action: string }[] }>('GET', `/v1/audit?keyId=${completedKeyId}&action=key.retired`)).body.entries;
    expect(audit).toHaveLength(1);
  });
});
