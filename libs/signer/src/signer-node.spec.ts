import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  aggregateOrBlame,
  bytesToHex,
  getSuite,
  hexToBytes,
  identityVerify,
  sortCommitments,
  SUITE_IDS,
  toNoblePublic,
  utf8,
  type CommitmentHex,
} from '#crypto';
import { verifyDecision } from '#intent';
import {
  MAX_FRAME_BYTES,
  authTranscript,
  encodeFrame,
  type AttemptPackageFrame,
  type Intent,
  type Outgoing,
  type RequestProposeFrame,
} from '#protocol';
import { Keystore } from './keystore/keystore.js';
import { sealShareToIdentity } from './keystore/sealed-share.js';
import { NonceStore, nonceIdOf } from './nonces/nonce-store.js';
import { SignerError } from './signer-error.js';
import { callApprovals } from './approvals/approvals-client.js';
import { SignerNode, type SignerNodeOptions } from './signer-node.js';
import { FakeCoordinator, type FakeCoordinatorOptions, type FakeNodeConnection } from './testing/fake-coordinator.js';
import { intentDigest, proposeFrame, testIntent } from './testing/intent-fixtures.js';
import { testNodeOptions } from './testing/test-node.js';
import { testPolicy } from './testing/test-policy.js';
import {
  commitAs,
  initTestKeystore,
  dealTestKey,
  decryptTestJournal,
  openTestKeystore,
  readTestJournal,
  tempDir,
  type DealtTestKey,
} from './testing/key-fixtures.js';

// Count every signShare and let a test look at the disk at the moment it runs.
const hooks = vi.hoisted(() => ({ signShareCalls: 0, beforeSignShare: undefined as (() => void) | undefined }));
vi.mock('#crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('#crypto')>();
  return {
    ...actual,
    signShare: (...args: Parameters<typeof actual.signShare>) => {
      hooks.signShareCalls++;
      hooks.beforeSignShare?.();
      return actual.signShare(...args);
    },
  };
});

type Proposal = Outgoing<RequestProposeFrame>;
type Package = Outgoing<AttemptPackageFrame>;

const MESSAGE = bytesToHex(utf8('pay 5 to bob'));

let root: { path: string; cleanup: () => Promise<void> };
let key: DealtTestKey;
let fake: FakeCoordinator;
let nodes: SignerNode[];

beforeEach(async () => {
  hooks.signShareCalls = 0;
  hooks.beforeSignShare = undefined;
  root = await tempDir();
  key = await dealTestKey(root.path, { suite: 'secp256k1', threshold: 2, maxSigners: 3, withKeystores: 2 });
  fake = await FakeCoordinator.start();
  nodes = [];
});

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(nodes.map((n) => n.stop()));
  await fake.close();
  await root.cleanup();
});

function makeNode(index = 0, overrides: Partial<SignerNodeOptions> = {}): SignerNode {
  const node = new SignerNode(testNodeOptions(key.keystores[index]!, fake.url, overrides));
  nodes.push(node);
  return node;
}

async function startNode(index = 0, overrides: Partial<SignerNodeOptions> = {}) {
  const node = makeNode(index, overrides);
  const connecting = fake.nextConnection();
  await node.start();
  const conn = await connecting;
  await conn.authenticated();
  return { node, conn };
}

async function restartFake(options: FakeCoordinatorOptions): Promise<void> {
  await fake.close();
  fake = await FakeCoordinator.start(options);
}

/** An honest proposal of the test intent (text 'pay 5 to bob'), with intent and frame overrides. */
const proposal = (intent: Partial<Intent> = {}, overrides: Partial<Proposal> = {}): Proposal => {
  const { v: _v, ...frame } = proposeFrame(testIntent(key.keyId, Date.now(), intent), { suite: 'secp256k1', threshold: 2 });
  return { ...frame, ...overrides };
};

const signingPackage = (p: Proposal, commitments: CommitmentHex[], overrides: Partial<Package> = {}): Package => ({
  type: 'attempt.package',
  requestId: p.requestId,
  attemptId: randomUUID(),
  keyId: p.intent.keyId,
  message: intentDigest(p.intent),
  commitments: sortCommitments(key.suite, commitments),
  deadline: Date.now() + 30_000,
  ...overrides,
});

async function commitTo(conn: FakeNodeConnection, p: Proposal): Promise<CommitmentHex> {
  conn.send(p);
  const frame = await conn.next('request.commit');
  expect(frame.requestId).toBe(p.requestId);
  return frame.commitment;
}

function shareVerifies(commitments: readonly CommitmentHex[], identifier: string, share: string, message = MESSAGE): boolean {
  const list = commitments.map((c) => ({ identifier: c.identifier, hiding: hexToBytes(c.hiding), binding: hexToBytes(c.binding) }));
  return getSuite(key.suite).frost.verifyShare(toNoblePublic(key.publicPackage), list, hexToBytes(message), identifier, hexToBytes(share));
}

const journal = (index = 0): Promise<Record<string, unknown>[]> => readTestJournal(key.keystores[index]!);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rejection(promise: Promise<unknown>): Promise<SignerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SignerError);
  return error as SignerError;
}

describe('authentication', () => {
  it('signs the challenge transcript, with the hash of its policy, by its identity key and reports the node id', async () => {
    const policy = testPolicy('allow', 'policy reported at auth');
    const node = makeNode(0, { policy });
    const authenticated = vi.fn();
    node.on('authenticated', authenticated);
    const connecting = fake.nextConnection();
    await node.start();
    const conn = await connecting;

    const response = conn.frames[0];
    expect(response?.type).toBe('auth.response');
    if (response?.type !== 'auth.response') return;
    const { publicKey } = await openTestKeystore(key.keystores[0]!);
    expect(response.publicKey).toBe(publicKey);
    expect(response.policyHash).toBe(policy.policyHash);
    expect(identityVerify(publicKey, authTranscript(fake.coordinatorId, conn.challenge, policy.policyHash), response.signature)).toBe(true);
    // bound to the coordinator id: the same signature does not verify for another coordinator
    expect(identityVerify(publicKey, authTranscript('another-coordinator', conn.challenge, policy.policyHash), response.signature)).toBe(false);
    // and to the policy hash: neither another hash nor none verifies
    expect(identityVerify(publicKey, authTranscript(fake.coordinatorId, conn.challenge, '00'.repeat(32)), response.signature)).toBe(false);
    expect(identityVerify(publicKey, authTranscript(fake.coordinatorId, conn.challenge), response.signature)).toBe(false);
    expect(conn.authVerified).toBe(true);
    expect(node.nodeId).toBe(conn.nodeId);
    expect(authenticated).toHaveBeenCalledWith({ nodeId: conn.nodeId, label: 'test node' });
  });

  it.each([
    [4404, 'NODE_UNKNOWN'],
    [4403, 'NODE_REVOKED'],
    [4401, 'AUTH_FAILED'],
  ] as const)('rejects start() on close code %i (%s) and does not reconnect', async (closeCode, code) => {
    await restartFake({ authenticate: () => ({ closeCode, reason: 'no' }) });
    const node = makeNode();
    const fatal = vi.fn();
    node.on('fatal', fatal);
    const error = await rejection(node.start());
    expect(error.code).toBe(code);
    if (code !== 'AUTH_FAILED') expect(error.message).toContain(node.publicKey);
    expect(fatal).toHaveBeenCalledWith(error);
    await sleep(250);
    expect(fake.connections).toHaveLength(1);
  });

  it('refuses to answer a challenge from a coordinator with another id', async () => {
    const node = makeNode(0, { coordinatorId: 'the-real-coordinator' });
    const error = await rejection(node.start());
    expect(error.code).toBe('COORDINATOR_MISMATCH');
    expect(fake.connections[0]?.frames).toEqual([]);
    await sleep(150);
    expect(fake.connections).toHaveLength(1);
  });

  it('authenticates when the coordinator id matches', async () => {
    const { conn } = await startNode(0, { coordinatorId: fake.coordinatorId });
    expect(conn.authVerified).toBe(true);
  });

  it('reconnects with backoff after the connection drops, and authenticates again', async () => {
    const { node, conn } = await startNode();
    const disconnected = vi.fn();
    const authenticated = vi.fn();
    node.on('disconnected', disconnected);
    node.on('authenticated', authenticated);
    const next = fake.nextConnection();
    conn.ws.terminate();
    const second = await next;
    await second.authenticated();
    await vi.waitFor(() => expect(authenticated).toHaveBeenCalledTimes(1));
    expect(disconnected).toHaveBeenCalledWith(expect.objectContaining({ code: 1006 }));
    // and it still works on the new connection
    await commitTo(second, proposal());
  });

  it('keeps its proposals and nonces across a reconnect: a re-sent package signs once, then replays', async () => {
    const { conn } = await startNode();
    const p = proposal();
    const own = await commitTo(conn, p);
    const pkg = signingPackage(p, [own, commitAs(key, 1)]);
    let next = fake.nextConnection();
    conn.ws.terminate();
    const second = await next;
    await second.authenticated();
    second.send(pkg);
    const share = await second.next('attempt.share');
    expect(shareVerifies(pkg.commitments, key.identifiers[0]!, share.share)).toBe(true);
    // the share was lost with this connection too: the coordinator re-sends the same package
    next = fake.nextConnection();
    second.ws.terminate();
    const third = await next;
    await third.authenticated();
    third.send(pkg);
    expect(await third.next('attempt.share')).toEqual(share);
    expect(hooks.signShareCalls).toBe(1);
  });

  it('drops a connection that never completes authentication and retries', async () => {
    await restartFake({ silent: true });
    const node = makeNode(0, { authTimeoutMs: 150 });
    const started = rejection(node.start());
    await vi.waitFor(() => expect(fake.connections.length).toBeGreaterThanOrEqual(3), { timeout: 3_000 });
    await node.stop();
    expect((await started).code).toBe('STOPPED');
  });

  it('treats REPLACED as fatal: another process holds this identity', async () => {
    const { node, conn } = await startNode();
    const fatal = vi.fn();
    node.on('fatal', fatal);
    conn.close(4409, 'replaced');
    await vi.waitFor(() => expect(fatal).toHaveBeenCalled());
    expect((fatal.mock.calls[0]![0] as SignerError).code).toBe('REPLACED');
    await sleep(150);
    expect(fake.connections).toHaveLength(1);
  });

  it('stop() closes the connection normally and never reconnects', async () => {
    const { node, conn } = await startNode();
    await node.stop();
    expect((await conn.closed).code).toBe(1000);
    await sleep(150);
    expect(fake.connections).toHaveLength(1);
  });

  it('ignores signing frames that arrive before authentication', async () => {
    await restartFake({ silent: true });
    const node = makeNode();
    const connecting = fake.nextConnection();
    const started = node.start();
    const conn = await connecting;
    await vi.waitFor(() => expect(conn.ws.readyState).toBe(conn.ws.OPEN));
    conn.send(proposal());
    conn.send({ type: 'auth.challenge', coordinatorId: fake.coordinatorId, challenge: conn.challenge, expiresAt: Date.now() + 5_000 });
    await started;
    expect(conn.frames.map((f) => f.type)).toEqual(['auth.response']);
    expect(await conn.quietFor(150)).toBe(true);
  });
});

describe('proposals', () => {
  it('commits with a fresh commitment for its own identifier, each time it is asked', async () => {
    const { node, conn } = await startNode();
    const committed = vi.fn();
    const proposed = vi.fn();
    node.on('committed', committed);
    node.on('proposal', proposed);
    const p = proposal();
    const first = await commitTo(conn, p);
    expect(first.identifier).toBe(key.identifiers[0]);
    getSuite(key.suite).assertElement(first.hiding, 'hiding');
    getSuite(key.suite).assertElement(first.binding, 'binding');
    expect(committed).toHaveBeenCalledWith({ requestId: p.requestId, commitment: first });
    expect(proposed).toHaveBeenCalledWith(expect.objectContaining({ requestId: p.requestId, intent: p.intent, intentHash: p.intentHash }));
    // re-proposed (after a coordinator-side reconnect): a new commitment, never the old one again
    const second = await commitTo(conn, p);
    expect(second).not.toEqual(first);
    expect((await journal()).filter((r) => r.event === 'issued').map((r) => r.id)).toEqual([nonceIdOf(first), nonceIdOf(second)]);
  });

  it.each([
    ['KEY_NOT_HELD', () => proposal({ keyId: randomUUID() })],
    ['SUITE_MISMATCH', () => proposal({}, { suite: 'ed25519' })],
    ['SUITE_MISMATCH', () => proposal({}, { threshold: 3 })],
    ['INTENT_MISMATCH', () => proposal({}, { intentHash: 'ab'.repeat(32) })],
    ['INTENT_INVALID', () => proposal({ payload: { kind: 'eip712', typedData: { domain: {}, types: {}, primaryType: 'Missing', message: {} } } })],
    ['DEADLINE_PASSED', () => proposal({ deadline: Date.now() - 1 })],
  ] as const)('declines with %s', async (code, make) => {
    const { node, conn } = await startNode();
    const declined = vi.fn();
    node.on('declined', declined);
    const p = make();
    conn.send(p);
    const frame = await conn.next('request.decline');
    expect(frame).toMatchObject({ requestId: p.requestId, code });
    expect(declined).toHaveBeenCalledWith(expect.objectContaining({ requestId: p.requestId, code }));
    expect(await journal()).toEqual([]);
  });

  it('declines with a signed decision what its policy denies, and commits with a signed approval what it allows', async () => {
    const policy = testPolicy((subject) => (subject.intent.description.startsWith('payroll') ? 'allow' : 'deny'));
    const { node, conn } = await startNode(0, { policy });
    conn.send(proposal({ description: 'drain the treasury' }));
    const declined = await conn.next('request.decline');
    expect(declined).toMatchObject({ code: 'POLICY_DENIED', decision: { verdict: 'decline', by: 'policy', rule: 'deny-rule', policyHash: policy.policyHash } });
    expect(verifyDecision(node.publicKey!, declined.decision!)).toBe(true);
    const p = proposal();
    conn.send(p);
    const committed = await conn.next('request.commit');
    expect(committed.decision).toMatchObject({ requestId: p.requestId, intentHash: p.intentHash, verdict: 'approve', by: 'policy', rule: 'allow-rule' });
    expect(verifyDecision(node.publicKey!, committed.decision)).toBe(true);
    // A decision does not verify under another identity, nor once altered.
    expect(verifyDecision(node.publicKey!, { ...committed.decision, verdict: 'decline' })).toBe(false);
  });

  it('answers request.awaiting on ask, commits no nonce, and sends the commitment once the operator approves', async () => {
    const { node, conn } = await startNode(0, { policy: testPolicy('ask') });
    const p = proposal();
    conn.send(p);
    expect(await conn.next('request.awaiting')).toMatchObject({ requestId: p.requestId, intentHash: p.intentHash, rule: 'ask-rule' });
    expect(await journal()).toEqual([]);
    const approved = await callApprovals(key.keystores[0]!, { op: 'approve', id: p.requestId });
    expect(approved).toMatchObject({ sent: true, approval: { state: 'approved' }, decision: { verdict: 'approve', by: 'operator' } });
    const commit = await conn.next('request.commit');
    expect(commit.decision).toEqual(approved.decision);
    expect(verifyDecision(node.publicKey!, commit.decision)).toBe(true);
    // The package of the approved intent signs.
    conn.send(signingPackage(p, [commit.commitment, commitAs(key, 1)]));
    expect(await conn.next('attempt.share')).toMatchObject({ requestId: p.requestId });
  });

  it('declines a re-proposal of the same request with a different intent', async () => {
    const { conn } = await startNode();
    const p = proposal();
    await commitTo(conn, p);
    const other = proposal({ payload: { kind: 'text', text: 'pay 500 to bob' } }, { requestId: p.requestId });
    conn.send(other);
    expect(await conn.next('request.decline')).toMatchObject({ code: 'INTENT_MISMATCH' });
  });
});

describe('signing', () => {
  it('signs a valid package: the share verifies, consumed was on disk first, and a next commitment comes with it', async () => {
    const { node, conn } = await startNode();
    const signed = vi.fn();
    node.on('signed', signed);
    const p = proposal();
    const own = await commitTo(conn, p);
    const pkg = signingPackage(p, [own, commitAs(key, 1)]);
    const journalPath = join(key.keystores[0]!, 'nonces.jsonl');
    let onDiskAtSigning = '';
    // Read synchronously inside signShare: what is on disk at that very moment.
    hooks.beforeSignShare = () => {
      onDiskAtSigning = readFileSync(journalPath, 'utf8');
    };
    conn.send(pkg);
    const frame = await conn.next('attempt.share');
    expect(frame).toMatchObject({ requestId: p.requestId, attemptId: pkg.attemptId });
    expect(shareVerifies(pkg.commitments, key.identifiers[0]!, frame.share)).toBe(true);
    expect(hooks.signShareCalls).toBe(1);
    const lastLine = (await decryptTestJournal(key.keystores[0]!, onDiskAtSigning)).at(-1);
    expect(lastLine).toMatchObject({ event: 'consumed', id: nonceIdOf(own), attemptId: pkg.attemptId });
    // the next commitment is fresh and journaled
    expect(frame.nextCommitment?.identifier).toBe(key.identifiers[0]);
    expect(frame.nextCommitment).not.toEqual(own);
    expect((await journal()).at(-1)).toMatchObject({ event: 'issued', id: nonceIdOf(frame.nextCommitment!), requestId: p.requestId });
    expect(signed).toHaveBeenCalledWith({ requestId: p.requestId, attemptId: pkg.attemptId, replayed: false });
  });

  it('signs the next attempt with its next commitment (ROAST)', async () => {
    const { conn } = await startNode();
    const p = proposal();
    const own = await commitTo(conn, p);
    conn.send(signingPackage(p, [own, commitAs(key, 1)]));
    const first = await conn.next('attempt.share');
    const retry = signingPackage(p, [first.nextCommitment!, commitAs(key, 2)]);
    conn.send(retry);
    const second = await conn.next('attempt.share');
    expect(shareVerifies(retry.commitments, key.identifiers[0]!, second.share)).toBe(true);
  });

  it.each(SUITE_IDS)('two %s nodes produce shares that aggregate into a valid signature', async (suite) => {
    if (key.publicPackage.suite !== suite) {
      key = await dealTestKey(join(root.path, suite), { suite, threshold: 2, maxSigners: 3, withKeystores: 2 });
    }
    const a = await startNode(0);
    const b = await startNode(1);
    const p = proposal({}, { suite });
    const pkg = signingPackage(p, [await commitTo(a.conn, p), await commitTo(b.conn, p)]);
    a.conn.send(pkg);
    b.conn.send(pkg);
    const [sa, sb] = await Promise.all([a.conn.next('attempt.share'), b.conn.next('attempt.share')]);
    const result = aggregateOrBlame(key.publicPackage, pkg.commitments, hexToBytes(MESSAGE), {
      [key.identifiers[0]!]: sa.share,
      [key.identifiers[1]!]: sb.share,
    });
    expect(result.ok).toBe(true);
  });

  it('answers a duplicate package with the same share and never signs a nonce twice', async () => {
    const { node, conn } = await startNode();
    const signed = vi.fn();
    node.on('signed', signed);
    const p = proposal();
    const own = await commitTo(conn, p);
    const pkg = signingPackage(p, [own, commitAs(key, 1)]);
    conn.send(pkg);
    const first = await conn.next('attempt.share');
    conn.send(pkg);
    const again = await conn.next('attempt.share');
    expect(again).toEqual(first);
    expect(signed).toHaveBeenLastCalledWith({ requestId: p.requestId, attemptId: pkg.attemptId, replayed: true });

    // the same attempt id with another package, and another attempt with the same commitment: refused
    conn.send({ ...pkg, commitments: sortCommitments(key.suite, [own, commitAs(key, 2)]) });
    expect(await conn.next('attempt.refuse')).toMatchObject({ attemptId: pkg.attemptId, code: 'NONCE_CONSUMED' });
    conn.send(signingPackage(p, [own, commitAs(key, 2)]));
    expect(await conn.next('attempt.refuse')).toMatchObject({ code: 'NONCE_CONSUMED' });
    expect(hooks.signShareCalls).toBe(1);
    // the original is still answered identically
    conn.send(pkg);
    expect(await conn.next('attempt.share')).toEqual(first);
    expect(hooks.signShareCalls).toBe(1);
  });

  type Case = [string, (p: Proposal, own: CommitmentHex) => Package];
  const refusals: Case[] = [
    ['NOT_PROPOSED', (p, own) => signingPackage({ ...p, requestId: randomUUID() }, [own, commitAs(key, 1)])],
    ['NOT_PROPOSED', (p, own) => signingPackage(p, [own, commitAs(key, 1)], { keyId: randomUUID() })],
    ['MESSAGE_MISMATCH', (p, own) => signingPackage(p, [own, commitAs(key, 1)], { message: bytesToHex(utf8('pay 500 to bob')) })],
    ['DEADLINE_PASSED', (p, own) => signingPackage(p, [own, commitAs(key, 1)], { deadline: Date.now() - 1 })],
    ['SIGNER_SET_SIZE', (p, own) => signingPackage(p, [own])],
    ['SIGNER_SET_SIZE', (p, own) => signingPackage(p, [own, commitAs(key, 1), commitAs(key, 2), commitAs(key, 2)])],
    ['SIGNER_SET_INVALID', (p, own) => ({ ...signingPackage(p, []), commitments: sortCommitments(key.suite, [own, commitAs(key, 1)]).reverse() })],
    ['SIGNER_SET_INVALID', (p, own) => signingPackage(p, [own, commitAs(key, 1), commitAs(key, 1)])],
    [
      'SIGNER_SET_INVALID',
      (p, own) => signingPackage(p, [own, { ...commitAs(key, 1), identifier: getSuite(key.suite).identifier(4) }]),
    ],
    ['COMMITMENT_MISSING', (p) => signingPackage(p, [commitAs(key, 1), commitAs(key, 2)])],
    ['COMMITMENT_ALTERED', (p, own) => signingPackage(p, [{ ...own, binding: commitAs(key, 0).binding }, commitAs(key, 1)])],
    ['NONCE_UNKNOWN', (p) => signingPackage(p, [commitAs(key, 0), commitAs(key, 1)])],
  ];

  it.each(refusals)('refuses with %s and sends no share', async (code, make) => {
    const { node, conn } = await startNode();
    const refused = vi.fn();
    node.on('refused', refused);
    const p = proposal();
    const own = await commitTo(conn, p);
    const pkg = make(p, own);
    conn.send(pkg);
    const frame = await conn.next('attempt.refuse');
    expect(frame).toMatchObject({ requestId: pkg.requestId, attemptId: pkg.attemptId, code });
    expect(refused).toHaveBeenCalledWith(expect.objectContaining({ attemptId: pkg.attemptId, code }));
    expect(hooks.signShareCalls).toBe(0);
    expect(conn.frames.some((f) => f.type === 'attempt.share')).toBe(false);
    // the same package again gets the same refusal
    conn.send(pkg);
    expect(await conn.next('attempt.refuse')).toEqual(frame);
  });

  it('burns its commitment once a package naming it was refused', async () => {
    const { conn } = await startNode();
    const p = proposal();
    const own = await commitTo(conn, p);
    conn.send(signingPackage(p, [own, commitAs(key, 1)], { message: bytesToHex(utf8('pay 500 to bob')) }));
    expect(await conn.next('attempt.refuse')).toMatchObject({ code: 'MESSAGE_MISMATCH' });
    conn.send(signingPackage(p, [own, commitAs(key, 1)]));
    expect(await conn.next('attempt.refuse')).toMatchObject({ code: 'NONCE_CONSUMED' });
    expect((await journal()).find((r) => r.event === 'discarded')).toMatchObject({ id: nonceIdOf(own), reason: 'refused MESSAGE_MISMATCH' });
  });

  it('refuses after the request deadline even if the attempt deadline is later', async () => {
    let now = Date.now();
    const { conn } = await startNode(0, { now: () => now });
    const p = proposal({ deadline: now + 1_000 });
    const own = await commitTo(conn, p);
    now += 2_000;
    conn.send(signingPackage(p, [own, commitAs(key, 1)], { deadline: now + 10_000 }));
    expect(await conn.next('attempt.refuse')).toMatchObject({ code: 'DEADLINE_PASSED' });
  });

  it('drops the nonces of a closed request and forgets the request', async () => {
    const { node, conn } = await startNode();
    const closed = vi.fn();
    node.on('closed', closed);
    const p = proposal();
    const first = await commitTo(conn, p);
    const second = await commitTo(conn, p);
    conn.send({ type: 'attempt.abort', requestId: p.requestId, attemptId: randomUUID(), reason: 'timed out' });
    conn.send({ type: 'request.closed', requestId: p.requestId, status: 'failed', reason: 'not enough signers' });
    await vi.waitFor(() => expect(closed).toHaveBeenCalledWith({ requestId: p.requestId, status: 'failed' }));
    const discarded = (await journal()).filter((r) => r.event === 'discarded');
    expect(discarded.map((r) => r.id).sort()).toEqual([nonceIdOf(first), nonceIdOf(second)].sort());
    expect(discarded.every((r) => r.reason === 'request failed')).toBe(true);
    conn.send(signingPackage(p, [second, commitAs(key, 1)]));
    expect(await conn.next('attempt.refuse')).toMatchObject({ code: 'NONCE_CONSUMED' });
    conn.send(signingPackage(p, [commitAs(key, 1), commitAs(key, 2)]));
    expect(await conn.next('attempt.refuse')).toMatchObject({ code: 'NOT_PROPOSED' });
  });
});

describe('restart', () => {
  it('discards nonces a crashed run left live; a package naming one is refused, a fresh one signs', async () => {
    const first = await startNode();
    const p = proposal();
    const before = await commitTo(first.conn, p);
    // Crash: the process dies without settling its live nonces (stop() would discard them).
    vi.spyOn(NonceStore.prototype, 'discardAll').mockResolvedValue(0);
    await first.node.stop();
    vi.restoreAllMocks();
    expect((await journal()).map((r) => r.event)).toEqual(['issued']);
    // ...and its last journal write was torn
    await appendFile(join(key.keystores[0]!, 'nonces.jsonl'), '{"nonce":"ab');

    const second = await startNode();
    expect((await journal()).at(-1)).toMatchObject({ event: 'discarded', id: nonceIdOf(before), reason: 'restart' });
    // The coordinator first re-sends the pending attempt's package: refused without blame (its nonce is gone).
    second.conn.send(signingPackage(p, [before, commitAs(key, 1)]));
    expect(await second.conn.next('attempt.refuse')).toMatchObject({ code: 'NONCE_CONSUMED' });
    // A request it never heard of, with a commitment it never made: NONCE_UNKNOWN (e.g. a lost journal).
    second.conn.send(signingPackage({ ...p, requestId: randomUUID() }, [commitAs(key, 0), commitAs(key, 1)]));
    expect(await second.conn.next('attempt.refuse')).toMatchObject({ code: 'NONCE_UNKNOWN' });
    // The coordinator re-proposes after the reconnect: a fresh commitment.
    const after = await commitTo(second.conn, p);
    expect(after).not.toEqual(before);
    second.conn.send(signingPackage(p, [before, commitAs(key, 1)]));
    expect(await second.conn.next('attempt.refuse')).toMatchObject({ code: 'NONCE_CONSUMED' });
    const pkg = signingPackage(p, [after, commitAs(key, 1)]);
    second.conn.send(pkg);
    const share = await second.conn.next('attempt.share');
    expect(shareVerifies(pkg.commitments, key.identifiers[0]!, share.share)).toBe(true);
  });

  it('settles live nonces as discarded on a clean stop', async () => {
    const first = await startNode();
    const own = await commitTo(first.conn, proposal());
    await first.node.stop();
    expect((await journal()).at(-1)).toMatchObject({ event: 'discarded', id: nonceIdOf(own), reason: 'shutdown' });
  });
});

describe('keystore at rest', () => {
  /** A share of a freshly dealt key for participant 1, sealed to node `index`'s identity and dropped into its inbox. */
  async function deliverNewKey(index: number, sealTo?: string): Promise<DealtTestKey> {
    const fresh = await dealTestKey(join(root.path, `fresh-${randomUUID()}`), { suite: 'secp256k1', threshold: 2, maxSigners: 3, withKeystores: 0 });
    const identifier = fresh.identifiers[0]!;
    const share = { keyId: fresh.keyId, suite: fresh.suite, identifier, signingShare: fresh.secretShares[identifier]!, publicPackage: fresh.publicPackage };
    const recipient = sealTo ?? (await Keystore.readPublicKey(key.keystores[index]!));
    await Keystore.deliverSealedShare(key.keystores[index]!, fresh.keyId, sealShareToIdentity(share, recipient));
    return fresh;
  }

  it('refuses to start with a wrong passphrase, and tells which', async () => {
    await expect(makeNode(0, { passphrase: 'not it' }).start()).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
  });

  it('imports sealed shares at start; a refused one is renamed .rejected and the node still starts', async () => {
    const good = await deliverNewKey(0);
    const stranger = await initTestKeystore(join(root.path, 'stranger'));
    const bad = await deliverNewKey(0, stranger.publicKey);
    await startNode();
    const inbox = join(key.keystores[0]!, 'inbox');
    expect(await readdir(inbox)).toEqual([`${bad.keyId}.sealed.json.rejected`]);
    expect((await (await openTestKeystore(key.keystores[0]!)).readShare(good.keyId)).identifier).toBe(good.identifiers[0]);
  });

  it('imports a share dealt after the start when a proposal names its key, and commits with it', async () => {
    const { conn } = await startNode();
    const fresh = await deliverNewKey(0);
    const commitment = await commitTo(conn, proposal({ keyId: fresh.keyId }));
    expect(commitment.identifier).toBe(fresh.identifiers[0]);
    expect(await readdir(join(key.keystores[0]!, 'inbox'))).toEqual([]);
  });
});

describe('robustness', () => {
  it('ignores malformed frames and keeps working', async () => {
    const { conn } = await startNode();
    const good = proposal();
    conn.sendRaw('this is not json');
    conn.sendRaw(JSON.stringify({ ...good, v: 2 }));
    conn.sendRaw(JSON.stringify({ v: 1, type: 'request.nonsense', requestId: good.requestId }));
    conn.sendRaw(encodeFrame({ ...good, requestId: 'not-a-uuid' }));
    conn.sendRaw(encodeFrame({ ...good, intent: { ...good.intent, keyId: 'not-a-uuid' } }));
    conn.sendRaw(Buffer.from(encodeFrame(good)), true);
    conn.sendRaw('null');
    // the only answer is to the valid proposal
    await commitTo(conn, good);
    expect(await conn.quietFor(100)).toBe(true);
    expect(conn.invalidFrames).toEqual([]);
  });

  it('reconnects after the coordinator sends an oversized frame', async () => {
    const { conn } = await startNode();
    const next = fake.nextConnection();
    conn.sendRaw('x'.repeat(MAX_FRAME_BYTES + 1));
    expect((await conn.closed).code).toBe(1009);
    await (await next).authenticated();
  });

  it('reports acks and coordinator errors as events', async () => {
    const { node, conn } = await startNode();
    const acks = vi.fn();
    const errors = vi.fn();
    node.on('ack', acks);
    node.on('coordinator-error', errors);
    const requestId = randomUUID();
    conn.send({ type: 'ack', of: 'request.commit', requestId });
    conn.send({ type: 'error', code: 'COMMITMENT_REUSED', message: 'seen before', inReplyTo: 'request.commit', requestId });
    await vi.waitFor(() => expect(errors).toHaveBeenCalled());
    expect(acks).toHaveBeenCalledWith(expect.objectContaining({ of: 'request.commit', requestId }));
    expect(errors).toHaveBeenCalledWith(expect.objectContaining({ code: 'COMMITMENT_REUSED', requestId }));
  });

  it('keeps answering when an event listener throws', async () => {
    const { node, conn } = await startNode();
    node.on('proposal', () => {
      throw new Error('listener bug');
    });
    await commitTo(conn, proposal());
  });
});
