import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, identitySign, type IdentityKeyPair } from '#crypto';
import { authTranscript, CloseCode } from '#protocol';
import { initKeystore, KDF_COSTS, loadNodePolicy, policyFromFlags, type ApprovalFlags, type SignerNode } from '#signer';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { RawNode } from './support/raw-node.js';
import { realSignerNode } from './support/signer-node.js';

type Node = { id: string; connected: boolean; lastSeenAt: string | null; policyHash: string | null; policyReportedAt: string | null };
type AuditEntry = { action: string; nodeId: string | null; actor: { kind: string; id: string }; details: Record<string, unknown> };

/**
 * Nodes report the hash of their policy when they authenticate (issue 11 §2); the coordinator shows it on
 * the node and audits each change. Real signer nodes with the real policy engine, and hand-driven ones
 * for the wire forms (older nodes, a tampered report).
 */
describe('node policy reports (real coordinator, real signer nodes, database)', () => {
  let coord: TestCoordinator;
  const root = join(tmpdir(), `roundtable-policy-report-${process.pid}-${Date.now()}`);
  const keystore = join(root, 'node-1');
  const passphrase = 'policy report passphrase';
  let nodeId: string;
  const running = new Set<SignerNode>();

  const getNode = async (id: string) => (await coord.api<Node>('GET', `/v1/nodes/${id}`)).body;
  const policyEntries = async (id: string) =>
    (await coord.api<{ entries: AuditEntry[] }>('GET', `/v1/audit?nodeId=${id}&action=node.policy_changed`)).body.entries;
  const waitFor = async (what: string, ok: () => Promise<boolean>) => {
    for (let i = 0; i < 200; i++) {
      if (await ok()) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const startNode = async (flags: ApprovalFlags) => {
    const policy = await loadNodePolicy({ document: policyFromFlags(flags), stateDir: keystore });
    const node = realSignerNode(coord, keystore, passphrase, { policy });
    await node.start();
    running.add(node);
    await waitFor('the node to connect', async () => (await getNode(nodeId)).connected);
    return { node, policy };
  };
  const enrollRaw = async (identity: IdentityKeyPair) =>
    (await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey: identity.publicKey, label: `raw-${identity.publicKey.slice(0, 8)}` })).body.id;
  /**
   * Authenticates by hand, sending `sent` as the policy hash and signing the transcript for `signed`; null
   * is no hash (sent: the field is absent; signed: the transcript of a node built before the report).
   */
  const rawAuth = async (identity: IdentityKeyPair, sent: string | null, signed: string | null = sent) => {
    const raw = await RawNode.open(coord.wsUrl, identity);
    const challenge = await raw.next('auth.challenge');
    const signature = identitySign(identity.secretKey, authTranscript(challenge.coordinatorId, challenge.challenge, signed ?? undefined));
    raw.send({ type: 'auth.response', publicKey: identity.publicKey, signature, ...(sent === null ? {} : { policyHash: sent }) });
    return raw;
  };

  beforeAll(async () => {
    coord = await startTestCoordinator();
    const { publicKey } = await initKeystore({ keystore, passphrase, kdfCost: KDF_COSTS.test });
    nodeId = (await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey, label: 'policy-node' })).body.id;
  });

  afterEach(async () => {
    await Promise.all([...running].map((n) => n.stop()));
    running.clear();
  });

  afterAll(async () => {
    await coord?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('a signer shows its own policy hash on GET /v1/nodes/:id; a restart with another policy changes it and is audited', async () => {
    const enrolled = await getNode(nodeId);
    expect(enrolled).toMatchObject({ policyHash: null, policyReportedAt: null });

    const first = await startNode({ approveDescription: '^payroll' });
    expect(first.policy.policyHash).toMatch(/^[0-9a-f]{64}$/);
    const shown = await getNode(nodeId);
    expect(shown.policyHash).toBe(first.policy.policyHash);
    expect(shown.policyReportedAt).toBe(shown.lastSeenAt);
    expect((await coord.api<Node[]>('GET', '/v1/nodes')).body.find((n) => n.id === nodeId)?.policyHash).toBe(first.policy.policyHash);
    // The first report is audited too (from: null), attributed to the node.
    expect(await policyEntries(nodeId)).toMatchObject([
      { action: 'node.policy_changed', nodeId, actor: { kind: 'node', id: nodeId }, details: { from: null, to: first.policy.policyHash } },
    ]);

    // The same policy again: a new report time, no new entry.
    await first.node.stop();
    running.delete(first.node);
    const again = await startNode({ approveDescription: '^payroll' });
    expect(again.policy.policyHash).toBe(first.policy.policyHash);
    const reported = await getNode(nodeId);
    expect(reported.policyHash).toBe(first.policy.policyHash);
    expect(Date.parse(reported.policyReportedAt!)).toBeGreaterThanOrEqual(Date.parse(shown.policyReportedAt!));
    expect(await policyEntries(nodeId)).toHaveLength(1);

    await again.node.stop();
    running.delete(again.node);
    const second = await startNode({ approveAll: true });
    expect(second.policy.policyHash).not.toBe(first.policy.policyHash);
    expect((await getNode(nodeId)).policyHash).toBe(second.policy.policyHash);
    const entries = await policyEntries(nodeId);
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({ details: { from: first.policy.policyHash, to: second.policy.policyHash } });
    // The entries are part of the verified chain.
    expect((await coord.api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok).toBe(true);
  });

  it('an old-style answer without policyHash still authenticates and keeps the last report', async () => {
    const identity = generateIdentity();
    const id = await enrollRaw(identity);

    const old = await rawAuth(identity, null);
    await old.next('auth.ok');
    const never = await getNode(id);
    expect(never).toMatchObject({ connected: true, policyHash: null, policyReportedAt: null });
    expect(never.lastSeenAt).not.toBeNull();
    old.close();
    await old.closed();

    const hash = 'a1'.repeat(32);
    const reporting = await rawAuth(identity, hash);
    await reporting.next('auth.ok');
    const afterReport = await getNode(id);
    expect(afterReport.policyHash).toBe(hash);
    reporting.close();
    await reporting.closed();

    const olderAgain = await rawAuth(identity, null);
    await olderAgain.next('auth.ok');
    await waitFor('the node to show as connected', async () => (await getNode(id)).connected);
    const kept = await getNode(id);
    expect(kept.policyHash).toBe(hash);
    expect(kept.policyReportedAt).toBe(afterReport.policyReportedAt);
    expect(Date.parse(kept.lastSeenAt!)).toBeGreaterThanOrEqual(Date.parse(afterReport.policyReportedAt!));
    expect(await policyEntries(id)).toMatchObject([{ details: { from: null, to: hash } }]);
    olderAgain.close();
  });

  it('refuses a report the node did not sign: an altered hash, a hash added to an old-style signature, a stripped one', async () => {
    const identity = generateIdentity();
    const id = await enrollRaw(identity);

    const altered = await rawAuth(identity, 'b2'.repeat(32), 'c3'.repeat(32));
    expect(await altered.next('error')).toMatchObject({ code: 'AUTH_FAILED' });
    expect(await altered.closed()).toBe(CloseCode.AUTH_FAILED);

    const added = await rawAuth(identity, 'b2'.repeat(32), null);
    expect(await added.next('error')).toMatchObject({ code: 'AUTH_FAILED' });
    expect(await added.closed()).toBe(CloseCode.AUTH_FAILED);

    const stripped = await rawAuth(identity, null, 'b2'.repeat(32));
    expect(await stripped.next('error')).toMatchObject({ code: 'AUTH_FAILED' });
    expect(await stripped.closed()).toBe(CloseCode.AUTH_FAILED);

    expect(await getNode(id)).toMatchObject({ policyHash: null, policyReportedAt: null, lastSeenAt: null });
    expect(await policyEntries(id)).toEqual([]);
  });
});
