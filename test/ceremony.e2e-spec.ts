import { randomBytes } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import type { FrostPublic } from '@noble/curves/abstract/frost.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, generateIdentity, getSuite, hexToBytes, identitySign, sha256Hex, utf8, type IdentityKeyPair, type SuiteId } from '#crypto';
import {
  ceremonyResultTranscript,
  ceremonyRound1Transcript,
  ceremonyTranscript,
  round2AssociatedData,
  type CeremonyParticipant,
  type CeremonyRound1AllFrame,
  type CeremonyRound2AllFrame,
  type CeremonyStartFrame,
  type SealedRound2,
  type SignedRound1,
} from '#protocol';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { RawNode } from './support/raw-node.js';

// ---------------------------------------------------------------- sealing (test-only scheme the scripted nodes agree on)

/** X25519 (ephemeral, recipient's identity key as Montgomery) + HKDF-SHA256 + XChaCha20-Poly1305. */
function seal(ceremonyId: string, from: string, to: string, recipientIdentityKey: string, plaintext: Uint8Array): SealedRound2 {
  const ephemeral = x25519.utils.randomSecretKey();
  const ephemeralPublic = x25519.getPublicKey(ephemeral);
  const shared = x25519.getSharedSecret(ephemeral, ed25519.utils.toMontgomery(hexToBytes(recipientIdentityKey)));
  const key = hkdf(sha256, shared, ephemeralPublic, utf8('roundtable/v1/dkg-round2-seal'), 32);
  const nonce = randomBytes(24);
  const aad = round2AssociatedData(ceremonyId, from, to, recipientIdentityKey);
  const ciphertext = xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
  return { from, to, ephemeral: bytesToHex(ephemeralPublic), nonce: bytesToHex(nonce), ciphertext: bytesToHex(ciphertext) };
}

function open(ceremonyId: string, me: IdentityKeyPair, sealed: SealedRound2): Uint8Array {
  const ephemeralPublic = hexToBytes(sealed.ephemeral);
  const shared = x25519.getSharedSecret(ed25519.utils.toMontgomerySecret(hexToBytes(me.secretKey)), ephemeralPublic);
  const key = hkdf(sha256, shared, ephemeralPublic, utf8('roundtable/v1/dkg-round2-seal'), 32);
  const aad = round2AssociatedData(ceremonyId, sealed.from, sealed.to, me.publicKey);
  return xchacha20poly1305(key, hexToBytes(sealed.nonce), aad).decrypt(hexToBytes(sealed.ciphertext));
}

// ---------------------------------------------------------------- a scripted DKG participant over a raw connection

type Dkg = ReturnType<typeof getSuite>['frost']['DKG'];
type DkgSecret = Parameters<Dkg['round2']>[0];

class ScriptedParticipant {
  start!: CeremonyStartFrame;
  me!: CeremonyParticipant;
  secret!: DkgSecret;
  signed!: SignedRound1;
  round1All!: SignedRound1[];
  /** Every secret this node handled: the plaintext round-2 shares it sent and received, and its final share. */
  readonly secrets: string[] = [];
  derived: FrostPublic | null = null;

  constructor(
    readonly node: RawNode,
    readonly identity: IdentityKeyPair,
    readonly nodeId: string,
  ) {}

  get dkg(): Dkg {
    return getSuite(this.start.suite).frost.DKG;
  }

  async receiveStart(ceremonyId: string): Promise<CeremonyStartFrame> {
    this.start = await this.node.next('ceremony.start', (f) => f.ceremonyId === ceremonyId);
    this.me = this.start.participants.find((p) => p.nodeId === this.nodeId)!;
    return this.start;
  }

  /** Makes (and remembers) this node's signed round-1 package for the started ceremony. */
  makeRound1(signForCeremony = this.start.ceremonyId): SignedRound1 {
    const { public: pub, secret } = this.dkg.round1(this.me.identifier, { min: this.start.threshold, max: this.start.participants.length });
    this.secret = secret;
    const pkg = { identifier: pub.identifier, commitment: pub.commitment.map(bytesToHex), proofOfKnowledge: bytesToHex(pub.proofOfKnowledge) };
    this.signed = { package: pkg, signature: identitySign(this.identity.secretKey, ceremonyRound1Transcript(signForCeremony, pkg)) };
    return this.signed;
  }

  sendRound1(signed: SignedRound1 = this.signed): void {
    this.node.send({ type: 'ceremony.round1', ceremonyId: this.start.ceremonyId, round1: signed });
  }

  transcriptHash(all: SignedRound1[]): string {
    const s = this.start;
    return sha256Hex(ceremonyTranscript({ ceremonyId: s.ceremonyId, keyId: s.keyId, suite: s.suite, threshold: s.threshold, participants: s.participants, round1: all }));
  }

  async round2(options: { transcriptHash?: string } = {}): Promise<void> {
    const all: CeremonyRound1AllFrame = await this.node.next('ceremony.round1.all', (f) => f.ceremonyId === this.start.ceremonyId);
    this.round1All = all.packages;
    const others = all.packages.filter((p) => p.package.identifier !== this.me.identifier).map((p) => this.toNoble(p));
    const shares = this.dkg.round2(this.secret, others);
    const sealed = Object.entries(shares).map(([to, share]) => {
      this.secrets.push(bytesToHex(share.signingShare));
      const recipient = this.start.participants.find((p) => p.identifier === to)!;
      return seal(this.start.ceremonyId, this.me.identifier, to, recipient.identityKey, share.signingShare);
    });
    this.node.send({
      type: 'ceremony.round2',
      ceremonyId: this.start.ceremonyId,
      transcriptHash: options.transcriptHash ?? this.transcriptHash(all.packages),
      shares: sealed,
    });
  }

  async round3(): Promise<void> {
    const r2: CeremonyRound2AllFrame = await this.node.next('ceremony.round2.all', (f) => f.ceremonyId === this.start.ceremonyId);
    expect(r2.transcriptHash).toBe(this.transcriptHash(this.round1All));
    const received = r2.shares.map((s) => {
      expect(s.to).toBe(this.me.identifier);
      const signingShare = open(this.start.ceremonyId, this.identity, s);
      this.secrets.push(bytesToHex(signingShare));
      return { identifier: s.from, signingShare };
    });
    const others = this.round1All.filter((p) => p.package.identifier !== this.me.identifier).map((p) => this.toNoble(p));
    const key = this.dkg.round3(this.secret, others, received);
    this.secrets.push(bytesToHex(key.secret.signingShare));
    this.derived = key.public;
    const commitments = key.public.commitments.map(bytesToHex);
    const verifyingShares = Object.fromEntries(Object.entries(key.public.verifyingShares).map(([id, v]) => [id, bytesToHex(v)]));
    const groupPublicKey = commitments[0]!;
    const transcript = ceremonyResultTranscript({ ceremonyId: this.start.ceremonyId, keyId: this.start.keyId, groupPublicKey, commitments, verifyingShares });
    this.node.send({
      type: 'ceremony.result',
      ceremonyId: this.start.ceremonyId,
      groupPublicKey,
      commitments,
      verifyingShares,
      signature: identitySign(this.identity.secretKey, transcript),
    });
  }

  closed(timeoutMs = 10_000) {
    return this.node.next('ceremony.closed', (f) => f.ceremonyId === this.start.ceremonyId, timeoutMs);
  }

  private toNoble(p: SignedRound1) {
    return { identifier: p.package.identifier, commitment: p.package.commitment.map(hexToBytes), proofOfKnowledge: hexToBytes(p.package.proofOfKnowledge) };
  }
}

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
    await Promise.all(three.map((p) => p.node.next('ack', (f) => f.of === 'ceremony.round1' && f.ceremonyId === c.id)));
    // A repeated identical package is acknowledged again (idempotent).
    three[0]!.sendRound1();
    await three[0]!.node.next('ack', (f) => f.of === 'ceremony.round1' && f.ceremonyId === c.id);
    await Promise.all(three.map((p) => p.round2()));
    await Promise.all(three.map((p) => p.round3()));
    const closed = await Promise.all(three.map((p) => p.closed()));
    expect(closed.map((f) => f.status)).toEqual(['completed', 'completed', 'completed']);
    expect(closed[0]!.keyId).toBe(c.keyId);

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
    const dataSource = coord.app.get(DataSource);
    const tables = await dataSource.query<{ tablename: string }[]>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    let rows = 0;
    for (const { tablename } of tables) {
      const dump = await dataSource.query<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t`);
      rows += dump.length;
      for (const { row } of dump) for (const secret of secrets) expect(row.includes(secret), `${tablename} holds a secret`).toBe(false);
    }
    // The sealed shares themselves are stored (ciphertext only).
    expect((await dataSource.query<unknown[]>('SELECT 1 FROM ceremony_round2')).length).toBe(6);
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
    expect(failed.culprits).toEqual([three[2]!.nodeId]);
    expect(failed.culpritNodeId).toBe(three[2]!.nodeId);
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
    a!.node.send({ type: 'ceremony.round2', ceremonyId: second.id, transcriptHash: sha256Hex('x'), shares: [share] });
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
