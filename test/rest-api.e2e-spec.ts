import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dealKey, generateIdentity } from '#crypto';
import { MAX_MESSAGE_BYTES } from '#protocol';
import { dealtKeyRegistration } from './support/keys.js';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';

type ErrorBody = { error: { code: string; message: string; details?: unknown } };

describe('REST API: typed errors for bad input, idempotency, health', () => {
  let coord: TestCoordinator;
  let keyId: string;

  beforeAll(async () => {
    coord = await startTestCoordinator();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: `n${i}` })).body.id);
    }
    const res = await coord.api<{ id: string }>('POST', '/v1/keys', dealtKeyRegistration('ed25519', 2, ids).body);
    keyId = res.body.id;
  });

  afterAll(async () => coord?.destroy());

  it('requires the admin token everywhere but /health', async () => {
    for (const path of ['/v1/nodes', '/v1/keys', '/v1/audit', '/v1/audit/verify', `/v1/signing-requests/${keyId}`]) {
      const res = await fetch(`${coord.httpUrl}${path}`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as ErrorBody).error.code).toBe('UNAUTHORIZED');
      const wrong = await fetch(`${coord.httpUrl}${path}`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } });
      expect(wrong.status).toBe(401);
    }
    const health = await fetch(`${coord.httpUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });

  it('answers malformed JSON, wrong types, unknown fields and bad ids with 400 and a code', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/v1/signing-requests', '{"keyId":'],
      ['POST', '/v1/signing-requests', { keyId: 42, message: 'x' }],
      ['POST', '/v1/signing-requests', { keyId, message: 'x', encoding: 'base64' }],
      ['POST', '/v1/signing-requests', { keyId, message: 'x', nodeId: 'sneaky' }],
      ['POST', '/v1/signing-requests', { keyId, message: 'zz', encoding: 'hex' }],
      ['POST', '/v1/signing-requests', { keyId, message: 'x', deadline: 'tomorrow' }],
      ['POST', '/v1/signing-requests', { keyId, message: 'x', deadline: new Date(Date.now() - 1000).toISOString() }],
      ['POST', '/v1/signing-requests', { keyId, message: 'ab'.repeat(MAX_MESSAGE_BYTES + 1), encoding: 'hex' }],
      ['GET', '/v1/signing-requests/not-a-uuid', undefined],
      ['GET', '/v1/audit?limit=-5', undefined],
      ['POST', '/v1/nodes', { publicKey: 'xyz', label: 'bad' }],
      ['POST', '/v1/nodes', { publicKey: '00'.repeat(32), label: 'identity point' }],
    ];
    for (const [method, path, body] of cases) {
      const res = await coord.api<ErrorBody>(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}`).toBe(400);
      expect(res.body.error.code).toMatch(/VALIDATION_FAILED/);
      expect(res.body.error.message.length).toBeGreaterThan(0);
    }
  });

  it('answers unknown ids with 404 and their own codes', async () => {
    const missing = '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41';
    expect((await coord.api<ErrorBody>('GET', `/v1/signing-requests/${missing}`)).body.error.code).toBe('REQUEST_NOT_FOUND');
    expect((await coord.api<ErrorBody>('GET', `/v1/keys/${missing}`)).body.error.code).toBe('KEY_NOT_FOUND');
    expect((await coord.api<ErrorBody>('GET', `/v1/nodes/${missing}`)).body.error.code).toBe('NODE_NOT_FOUND');
    const res = await coord.api<ErrorBody>('POST', '/v1/signing-requests', { keyId: missing, message: 'x' });
    expect([res.status, res.body.error.code]).toEqual([404, 'KEY_NOT_FOUND']);
  });

  it('refuses a key package that does not hold together, naming why', async () => {
    const key = dealKey('secp256k1', 2, 3);
    const ids = Object.keys(key.public.verifyingShares);
    const nodes = (await coord.api<{ id: string }[]>('GET', '/v1/nodes')).body.map((n) => n.id);
    const body = {
      suite: 'secp256k1',
      threshold: 2,
      maxSigners: 3,
      commitments: key.public.commitments,
      verifyingShares: { ...key.public.verifyingShares, [ids[0]!]: key.public.verifyingShares[ids[1]!] },
      members: nodes.slice(0, 3).map((nodeId, i) => ({ nodeId, identifier: ids[i] })),
    };
    const res = await coord.api<ErrorBody>('POST', '/v1/keys', body);
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_KEY_PACKAGE']);
    expect(res.body.error.message).toMatch(/does not match/);
  });

  it('replays an idempotent create (same body: 200, same id) and refuses a conflicting one (409)', async () => {
    const body = { keyId, message: 'pay once', description: 'idem', idempotencyKey: 'order-77' };
    const first = await coord.api<{ id: string }>('POST', '/v1/signing-requests', body);
    const again = await coord.api<{ id: string }>('POST', '/v1/signing-requests', body);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const conflict = await coord.api<ErrorBody>('POST', '/v1/signing-requests', { ...body, message: 'pay twice' });
    expect([conflict.status, conflict.body.error.code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);
    const viaHeader = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, message: 'hdr' }, { 'idempotency-key': 'hdr-1' });
    const viaHeaderAgain = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, message: 'hdr' }, { 'idempotency-key': 'hdr-1' });
    expect(viaHeaderAgain.body.id).toBe(viaHeader.body.id);
  });

  it('lets a request expire on its deadline with a reason naming the nodes that never answered', async () => {
    const deadline = new Date(Date.now() + 1500).toISOString();
    const created = await coord.api<{ id: string; status: string }>('POST', '/v1/signing-requests', { keyId, message: 'nobody is online', deadline });
    expect(created.body.status).toBe('pending');
    const done = await coord.api<{ status: string; failure: { code: string; reason: string; culprits: unknown[] } }>(
      'GET',
      `/v1/signing-requests/${created.body.id}?waitMs=10000`,
    );
    expect(done.body.status).toBe('expired');
    expect(done.body.failure.code).toBe('REQUEST_EXPIRED');
    expect(done.body.failure.reason).toMatch(/never answered/);
    expect(done.body.failure.culprits).toHaveLength(3);
    const audit = await coord.api<{ entries: { action: string }[] }>('GET', `/v1/audit?requestId=${created.body.id}`);
    expect(audit.body.entries.map((e) => e.action)).toEqual(['request.created', 'request.expired']);
  });

  it('pages the audit log with filters', async () => {
    const page1 = await coord.api<{ entries: { seq: number }[]; nextAfter: number | null }>('GET', '/v1/audit?limit=2');
    expect(page1.body.entries).toHaveLength(2);
    const page2 = await coord.api<{ entries: { seq: number }[] }>('GET', `/v1/audit?limit=2&after=${page1.body.nextAfter}`);
    expect(page2.body.entries[0]!.seq).toBe(page1.body.entries[1]!.seq + 1);
    const enrolled = await coord.api<{ entries: { action: string }[] }>('GET', '/v1/audit?action=node.enrolled');
    expect(enrolled.body.entries.length).toBeGreaterThanOrEqual(3);
    expect(enrolled.body.entries.every((e) => e.action === 'node.enrolled')).toBe(true);
    const future = await coord.api<{ entries: unknown[] }>('GET', `/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.body.entries).toHaveLength(0);
  });
});
