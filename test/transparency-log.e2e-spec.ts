import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditBundleResponse,
  AuditCheckpointResponse,
  AuditConsistencyProofResponse,
  AuditInclusionProofResponse,
  AuditLogKeyResponse,
  AuditPageResponse,
  NodeResponse,
} from '#api';
import { entryLeafHash, openCheckpoint, verifyBundle, verifyConsistency, verifyInclusion } from '#audit';
import { generateIdentity, hexToBytes } from '#crypto';
import { buildAdminProgram } from '../apps/admin/src/program.js';
import { ADMIN_TOKEN, startTestCoordinator, type TestCoordinator } from './support/coordinator.js';

describe('transparency log over the audit chain', () => {
  let coord: TestCoordinator;
  let logKey: AuditLogKeyResponse;
  const enroll = async (n: number) => {
    for (let i = 0; i < n; i++) {
      NodeResponse.parse((await coord.api('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: `t-${Math.random()}` })).body);
    }
  };
  const get = async <T>(path: string, schema: { parse(v: unknown): T }): Promise<T> => {
    const res = await coord.api('GET', path);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return schema.parse(res.body);
  };

  beforeAll(async () => {
    coord = await startTestCoordinator({ auditCheckpointIntervalMs: 0 });
    await enroll(3);
    logKey = await get('/v1/audit/log-key', AuditLogKeyResponse);
  });
  afterAll(async () => coord?.destroy());

  it('signs checkpoints with the log key, one per size, consistent with each other', async () => {
    const first = await get('/v1/audit/checkpoint', AuditCheckpointResponse);
    const opened = openCheckpoint(first.note, hexToBytes(logKey.publicKey), logKey.keyName);
    expect(opened.origin).toBe(logKey.origin);
    expect(opened.size).toBe(first.treeSize);
    expect(first.treeSize).toBeGreaterThanOrEqual(3);
    expect(await get('/v1/audit/checkpoint', AuditCheckpointResponse)).toEqual(first);

    await enroll(2);
    const second = await get('/v1/audit/checkpoint', AuditCheckpointResponse);
    expect(second.treeSize).toBe(first.treeSize + 2);
    const proof = await get(`/v1/audit/proof/consistency?from=${first.treeSize}&to=${second.treeSize}`, AuditConsistencyProofResponse);
    expect(
      verifyConsistency(first.treeSize, second.treeSize, hexToBytes(first.rootHash), hexToBytes(second.rootHash), proof.hashes.map(hexToBytes)),
    ).toBeNull();
    const metrics = await (await fetch(`${coord.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^roundtable_audit_checkpoint_size ${second.treeSize}$`, 'm'));
  });

  it('serves inclusion proofs that lead every entry to the checkpoint root', async () => {
    const cp = await get('/v1/audit/checkpoint', AuditCheckpointResponse);
    const page = await get(`/v1/audit?limit=1000`, AuditPageResponse);
    for (const e of page.entries.filter((x) => x.seq <= cp.treeSize)) {
      const p = await get(`/v1/audit/proof/inclusion?seq=${e.seq}&size=${cp.treeSize}`, AuditInclusionProofResponse);
      expect(verifyInclusion(e.seq - 1, cp.treeSize, entryLeafHash(e.hash), p.hashes.map(hexToBytes), hexToBytes(cp.rootHash))).toBeNull();
    }
    expect((await coord.api('GET', `/v1/audit/proof/inclusion?seq=${cp.treeSize + 50}&size=${cp.treeSize + 50}`)).status).toBe(400);
    expect((await coord.api('GET', '/v1/audit/proof/inclusion?seq=0&size=1')).status).toBe(400);
  });

  it('exports a bundle that the offline verifier accepts, and refuses once tampered', async () => {
    const bundle = await get('/v1/audit/bundle?from=2&to=4', AuditBundleResponse);
    expect(bundle.entries.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(verifyBundle(bundle, hexToBytes(logKey.publicKey))).toMatchObject({ ok: true, entries: 3 });

    const dir = mkdtempSync(join(tmpdir(), 'roundtable-bundle-'));
    const file = join(dir, 'bundle.json');
    writeFileSync(file, JSON.stringify(bundle));
    const run = async (args: string[]) => {
      const out: string[] = [];
      let exitCode = 0;
      await buildAdminProgram({ out: (t) => out.push(t), progress: () => undefined, setExitCode: (c) => (exitCode = c) }).parseAsync(args, {
        from: 'user',
      });
      return { verdict: JSON.parse(out.join('\n')) as { ok: boolean; reason?: string }, exitCode };
    };
    expect(await run(['audit', 'verify-bundle', '--bundle', file, '--log-key', logKey.publicKey])).toMatchObject({ verdict: { ok: true }, exitCode: 0 });
    const forged = structuredClone(bundle);
    forged.entries[1]!.outcome = forged.entries[1]!.outcome === 'success' ? 'failure' : 'success';
    writeFileSync(file, JSON.stringify(forged));
    const keyFile = join(dir, 'log-key.json');
    writeFileSync(keyFile, JSON.stringify(logKey));
    expect(await run(['audit', 'verify-bundle', '--bundle', file, '--log-key', keyFile])).toEqual({
      verdict: { ok: false, reason: 'entry seq 3: hash does not match the entry\'s contents' },
      exitCode: 1,
    });
    const other = generateIdentity().publicKey;
    writeFileSync(file, JSON.stringify(bundle));
    expect((await run(['audit', 'verify-bundle', '--bundle', file, '--log-key', other])).verdict.reason).toMatch(/not signed by the log key/);
  });

  it('streams the export as JSON lines or CSV, filtered, every matching entry', async () => {
    const fetchText = async (path: string) => {
      const res = await fetch(`${coord.httpUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    const all = await get('/v1/audit?limit=1000', AuditPageResponse);
    const jsonl = await fetchText('/v1/audit/export');
    expect(jsonl.status).toBe(200);
    expect(jsonl.type).toMatch(/^application\/x-ndjson/);
    const lines = jsonl.text.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual(all.entries);

    const csv = await fetchText('/v1/audit/export?format=csv&action=node.enrolled&after=1');
    expect(csv.type).toMatch(/^text\/csv/);
    const rows = csv.text.trimEnd().split('\r\n');
    expect(rows[0]).toBe('seq,id,occurredAt,actorKind,actorId,action,outcome,keyId,requestId,attemptId,nodeId,details,prevHash,hash');
    const wanted = all.entries.filter((e) => e.action === 'node.enrolled' && e.seq > 1);
    expect(rows.slice(1).map((r) => Number(r.split(',')[0]))).toEqual(wanted.map((e) => e.seq));
    expect(rows[1]).toContain(`,${wanted[0]!.hash}`);
    expect((await fetchText('/v1/audit/export?format=xml')).status).toBe(400);
  });

  it('filters the list and the export by actor (kind, and exact id)', async () => {
    // The admin token acts once more (it creates a principal); then filter on the actor.
    const created = await coord.api<{ principal: { id: string } }>('POST', '/v1/principals', { name: `actor-filter-${Date.now()}`, role: 'admin' });
    expect(created.status).toBe(201);
    const all = (await get('/v1/audit?limit=1000', AuditPageResponse)).entries;
    const byAdminToken = all.filter((e) => e.actor.kind === 'admin' && e.actor.id === 'admin-token');
    expect(byAdminToken.length).toBeGreaterThan(0);
    const list = await get('/v1/audit?actorKind=admin&actorId=admin-token&limit=1000', AuditPageResponse);
    expect(list.entries.map((e) => e.seq)).toEqual(byAdminToken.map((e) => e.seq));
    const nodes = await get('/v1/audit?actorKind=node&limit=1000', AuditPageResponse);
    expect(nodes.entries.every((e) => e.actor.kind === 'node')).toBe(true);
    expect((await get('/v1/audit?actorKind=admin&actorId=nobody', AuditPageResponse)).entries).toEqual([]);
    const res = await fetch(`${coord.httpUrl}/v1/audit/export?actorKind=admin&actorId=admin-token`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const exported = (await res.text()).trimEnd().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(exported).toEqual(byAdminToken.map((e) => e.seq));
    expect((await coord.api('GET', '/v1/audit?actorKind=robot')).status).toBe(400);
  });
});
