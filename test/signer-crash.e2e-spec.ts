import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '#crypto';
import { verifyIndependently } from '#verify';
import { COORDINATOR_MAIN, LocalCluster, waitFor } from '#harness';
import { decryptTestJournal } from '../libs/signer/src/testing/key-fixtures.js';
import { createTestDatabase } from './support/database.js';

type Request = {
  id: string;
  status: string;
  signature: string | null;
  culprits: { nodeId: string; reason: string }[];
  attempts: { id: string; seq: number; status: string; participants: string[]; commitments: { identifier: string; hiding: string; binding: string }[] }[];
  failure: unknown;
};
type AuditEntry = { action: string; nodeId: string | null; attemptId: string | null; details: Record<string, unknown> };
type JournalRecord = { event: string; id: string; attemptId?: string; reason?: string };

const FINAL = ['completed', 'failed', 'expired'];

/**
 * Issue 4 §2: a signer killed with SIGKILL between its commitment and its share, then restarted on the
 * same keystore. Real processes; the crash is placed deterministically:
 *   1. only node A runs: it commits to the request (the coordinator records A's commitment);
 *   2. A is frozen (SIGSTOP), then B starts: the first attempt starts with A and B, and A's signing
 *      package sits unread in A's socket while B answers;
 *   3. A is killed (SIGKILL) with its nonce live, then restarted on the same keystore, and C starts.
 * A must never sign with the nonce behind that first commitment, that commitment must never appear in
 * a later attempt, the request must still complete with a valid signature, and the restarted A is honest
 * (not blamed).
 */
describe('signer crash (SIGKILL) between commit and share', () => {
  let dir: string;
  let cluster: LocalCluster;
  let database: Awaited<ReturnType<typeof createTestDatabase>> | null = null;

  beforeAll(async () => {
    if (!existsSync(COORDINATOR_MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    dir = await mkdtemp(join(tmpdir(), 'roundtable-signer-crash-'));
    cluster = new LocalCluster({
      workDir: join(dir, 'cluster'),
      nodes: 3,
      ...(process.env.DATABASE_URL ? { databaseUrl: (database = await createTestDatabase()).databaseUrl! } : {}),
      coordinatorEnv: { ATTEMPT_STAGGER_MS: '500', REQUEST_TTL_MS: '60000' },
    });
    await cluster.start();
  });

  afterAll(async () => {
    await cluster?.stop();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const audit = async (requestId: string, action: string): Promise<AuditEntry[]> =>
    (await cluster.api<{ entries: AuditEntry[] }>('GET', `/v1/audit?requestId=${requestId}&action=${action}&limit=1000`)).entries;
  /** The request's audit trail, one line per entry with nodes named A, B, C (failure messages). */
  const trail = async (requestId: string): Promise<string> => {
    const names = new Map(cluster.nodeIds.map((nodeId, i) => [nodeId, 'ABC'[i]!]));
    const { entries } = await cluster.api<{ entries: (AuditEntry & { occurredAt: string })[] }>('GET', `/v1/audit?requestId=${requestId}&limit=1000`);
    return entries
      .map((e) => `${e.occurredAt.slice(17)} ${e.action} ${e.nodeId ? names.get(e.nodeId) : ''} ${e.attemptId?.slice(0, 8) ?? ''} ${JSON.stringify(e.details).slice(0, 160)}`)
      .join('\n');
  };
  const journalOf = async (index: number): Promise<JournalRecord[]> => {
    const keystore = cluster.keystores[index]!;
    const text = await readFile(join(keystore, 'nonces.jsonl'), 'utf8');
    return (await decryptTestJournal(keystore, text, cluster.passphrases[index])) as unknown as JournalRecord[];
  };

  it('the restarted node never signs with the nonce it held at the crash; the request completes with a valid signature', async () => {
    const [A, B, C] = [0, 1, 2];
    const [nodeA, nodeB, nodeC] = cluster.nodeIds as [string, string, string];
    const key = await cluster.dealKey('secp256k1', 2);

    // 1. Only A runs.
    await cluster.stopSigner(B);
    await cluster.stopSigner(C);
    await cluster.waitForConnected([nodeA]);
    const message = 'signer crash between commit and share';
    const { id } = await cluster.api<{ id: string }>('POST', '/v1/signing-requests', { keyId: key.id, message, description: 'signer crash test' });
    const firstCommitment = await waitFor(
      "the coordinator to record A's commitment",
      async () => (await audit(id, 'commitment.received')).find((e) => e.nodeId === nodeA),
      20_000,
      50,
    );
    const crashedNonce = firstCommitment.details.commitmentHash as string;
    expect(crashedNonce).toMatch(/^[0-9a-f]{64}$/);

    // 2. A frozen; B joins: the first attempt is A and B; B answers, A's package stays unread.
    const processA = cluster.signers[A]!.process;
    expect(processA.kill('SIGSTOP')).toBe(true);
    cluster.startSigner(B);
    const first = await waitFor(
      'the first attempt, with A and B',
      async () => (await cluster.api<Request>('GET', `/v1/signing-requests/${id}`)).attempts.find((a) => a.seq === 1),
      30_000,
      50,
    );
    expect([...first.participants].sort()).toEqual([nodeA, nodeB].sort());
    await waitFor(
      "B's share in the first attempt",
      async () => ((await audit(id, 'share.received')).some((e) => e.nodeId === nodeB && e.attemptId === first.id) ? true : undefined),
      30_000,
      50,
    );
    const meanwhile = await cluster.api<Request>('GET', `/v1/signing-requests/${id}`);
    expect(FINAL).not.toContain(meanwhile.status);

    // 3. A killed while its nonce is live: the journal shows it issued and never settled.
    processA.kill('SIGKILL');
    await cluster.signers[A]!.exited;
    const atCrash = (await journalOf(A)).filter((r) => r.id === crashedNonce);
    expect(atCrash.map((r) => r.event)).toEqual(['issued']);

    cluster.startSigner(A);
    cluster.startSigner(C);
    await cluster.waitForConnected([nodeA, nodeB, nodeC]);

    let request = await cluster.api<Request>('GET', `/v1/signing-requests/${id}?waitMs=30000`);
    if (!FINAL.includes(request.status)) request = await cluster.api<Request>('GET', `/v1/signing-requests/${id}?waitMs=30000`);
    expect(request.status, JSON.stringify(request.failure)).toBe('completed');
    expect(await verifyIndependently('secp256k1', request.signature!, new TextEncoder().encode(message), key.groupPublicKey)).toBe(true);
    expect(request.attempts.filter((a) => a.status === 'completed')).toHaveLength(1);
    // The first attempt could not complete: A's share was never given.
    expect(request.attempts.find((a) => a.id === first.id)!.status).not.toBe('completed');

    // No share from A in the first attempt; every share A gave was for an attempt after its restart.
    const shares = await audit(id, 'share.received');
    expect(shares.filter((s) => s.nodeId === nodeA && s.attemptId === first.id)).toEqual([]);

    // A never offered the crashed commitment again, and nothing A sent was rejected.
    const fromA = (await audit(id, 'commitment.received')).filter((e) => e.nodeId === nodeA);
    expect(fromA.filter((e) => e.details.commitmentHash === crashedNonce)).toHaveLength(1);
    expect(await audit(id, 'signer.excluded')).toEqual([]);

    // The restart is honest: A is not blamed; nor is anyone else (every node here is honest).
    const diagnosis = await trail(id);
    expect(request.culprits.map((c) => c.nodeId), diagnosis).not.toContain(nodeA);
    expect(request.culprits, diagnosis).toEqual([]);

    // A's journal: the crashed nonce was discarded at the restart and never consumed.
    const journal = await journalOf(A);
    const crashed = journal.filter((r) => r.id === crashedNonce);
    expect(crashed.map((r) => r.event)).toEqual(['issued', 'discarded']);
    expect(crashed[1]!.reason).toBe('restart');
    for (const consumed of journal.filter((r) => r.event === 'consumed')) {
      expect(consumed.id).not.toBe(crashedNonce);
      expect(consumed.attemptId).not.toBe(first.id);
    }

    expect((await cluster.api<{ ok: boolean }>('GET', '/v1/audit/verify')).ok).toBe(true);

    // The attempts' commitment lists (public in the request view): A's crashed commitment is only in the first.
    const identifierA = firstCommitment.details.identifier as string;
    const crashedCommitment = request.attempts.find((a) => a.id === first.id)!.commitments.find((c) => c.identifier === identifierA);
    expect(crashedCommitment, "A's commitment in the first attempt").toBeDefined();
    expect(sha256Hex(`${crashedCommitment!.hiding}${crashedCommitment!.binding}`)).toBe(crashedNonce);
    for (const attempt of request.attempts.filter((a) => a.id !== first.id)) {
      for (const c of attempt.commitments) {
        expect(c.hiding).not.toBe(crashedCommitment!.hiding);
        expect(c.binding).not.toBe(crashedCommitment!.binding);
      }
    }
  });
});
