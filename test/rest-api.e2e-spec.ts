import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditPageResponse, ErrorResponse, HealthResponse, KeyResponse, NodeListResponse, NodeResponse, SigningRequestResponse } from '#api';
import { dealKey, generateIdentity } from '#crypto';
import { MAX_MESSAGE_BYTES } from '#protocol';
import { dealtKeyRegistration } from './support/keys.js';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';

/** The status and the error body of a refused call, parsed with the API's error schema. */
const refusal = (res: { status: number; body: unknown }) => ({ status: res.status, error: ErrorResponse.parse(res.body).error });

describe('REST API: typed errors for bad input, idempotency, health', () => {
  let coord: TestCoordinator;
  let keyId: string;

  beforeAll(async () => {
    coord = await startTestCoordinator();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(NodeResponse.parse((await coord.api('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: `n${i}` })).body).id);
    }
    const res = await coord.api('POST', '/v1/keys', dealtKeyRegistration('ed25519', 2, ids).body);
    keyId = KeyResponse.parse(res.body).id;
  });

  afterAll(async () => coord?.destroy());

  it('requires the admin token everywhere but /health', async () => {
    for (const path of ['/v1/nodes', '/v1/keys', '/v1/audit', '/v1/audit/verify', `/v1/signing-requests/${keyId}`]) {
      const res = await fetch(`${coord.httpUrl}${path}`);
      expect(res.status).toBe(401);
      expect(ErrorResponse.parse(await res.json()).error.code).toBe('UNAUTHORIZED');
      const wrong = await fetch(`${coord.httpUrl}${path}`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } });
      expect(wrong.status).toBe(401);
    }
    const health = await fetch(`${coord.httpUrl}/health`);
    expect(health.status).toBe(200);
    expect(HealthResponse.parse(await health.json())).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });

  it('answers malformed JSON, wrong types, unknown fields and bad ids with 400 and a code', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/v1/signing-requests', '{"keyId":'],
      ['POST', '/v1/signing-requests', { keyId: 42, message: 'x' }],
      ['POST', '/v1/signing-requests', { keyId, message: 'x', encoding: 'base64' }],
      ['POST', '/v1/signing-requests', { keyId, message: 'x', nodeId: 'sneaky' }],
      ['POST', '/v1/signing-requests', { keyId, message: 'zz', encoding: 'hex' }],
      ['POST', '/v1/signing-requests', { keyId, message: 'x', deadline: 'tomorrow' }],
      ['POST', '/v1/signing-requests', { keyId, message: 'x', deadline: new Date(Date.now() + 500).toISOString() }],
      ['POST', '/v1/signing-requests', { keyId, message: 'ab'.repeat(MAX_MESSAGE_BYTES + 1), encoding: 'hex' }],
      ['GET', '/v1/signing-requests/not-a-uuid', undefined],
      ['GET', '/v1/audit?limit=-5', undefined],
      ['POST', '/v1/nodes', { publicKey: 'xyz', label: 'bad' }],
      ['POST', '/v1/nodes', { publicKey: '00'.repeat(32), label: 'identity point' }],
    ];
    for (const [method, path, body] of cases) {
      const { status, error } = refusal(await coord.api(method, path, body));
      expect(status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}`).toBe(400);
      expect(error.code).toMatch(/VALIDATION_FAILED/);
      expect(error.message.length).toBeGreaterThan(0);
    }
  });

  it('answers unknown ids with 404 and their own codes', async () => {
    const missing = '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41';
    expect(refusal(await coord.api('GET', `/v1/signing-requests/${missing}`)).error.code).toBe('REQUEST_NOT_FOUND');
    expect(refusal(await coord.api('GET', `/v1/keys/${missing}`)).error.code).toBe('KEY_NOT_FOUND');
    expect(refusal(await coord.api('GET', `/v1/nodes/${missing}`)).error.code).toBe('NODE_NOT_FOUND');
    const res = refusal(await coord.api('POST', '/v1/signing-requests', { keyId: missing, message: 'x' }));
    expect([res.status, res.error.code]).toEqual([404, 'KEY_NOT_FOUND']);
  });

  it('refuses a key package that does not hold together, naming why', async () => {
    const key = dealKey('secp256k1', 2, 3);
    const ids = Object.keys(key.public.verifyingShares);
    const nodes = NodeListResponse.parse((await coord.api('GET', '/v1/nodes')).body).map((n) => n.id);
    const body = {
      suite: 'secp256k1',
      threshold: 2,
      maxSigners: 3,
      commitments: key.public.commitments,
      verifyingShares: { ...key.public.verifyingShares, [ids[0]!]: key.public.verifyingShares[ids[1]!] },
      members: nodes.slice(0, 3).map((nodeId, i) => ({ nodeId, identifier: ids[i] })),
    };
    const res = refusal(await coord.api('POST', '/v1/keys', body));
    expect([res.status, res.error.code]).toEqual([400, 'INVALID_KEY_PACKAGE']);
    expect(res.error.message).toMatch(/does not match/);
  });

  it('replays an idempotent create (same body: 200, same id) and refuses a conflicting one (409)', async () => {
    const body = { keyId, message: 'pay once', description: 'idem', idempotencyKey: 'order-77' };
    const create = async (b: unknown, headers?: Record<string, string>) => {
      const res = await coord.api('POST', '/v1/signing-requests', b, headers);
      return { status: res.status, request: SigningRequestResponse.parse(res.body) };
    };
    const first = await create(body);
    const again = await create(body);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.request.id).toBe(first.request.id);
    const conflict = refusal(await coord.api('POST', '/v1/signing-requests', { ...body, message: 'pay twice' }));
    expect([conflict.status, conflict.error.code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);
    const viaHeader = await create({ keyId, message: 'hdr' }, { 'idempotency-key': 'hdr-1' });
    const viaHeaderAgain = await create({ keyId, message: 'hdr' }, { 'idempotency-key': 'hdr-1' });
    expect(viaHeaderAgain.request.id).toBe(viaHeader.request.id);
    const badHeader = refusal(await coord.api('POST', '/v1/signing-requests', { keyId, message: 'hdr' }, { 'idempotency-key': 'x'.repeat(201) }));
    expect([badHeader.status, badHeader.error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('lets a request expire on its deadline with a reason naming the nodes that never answered', async () => {
    const deadline = new Date(Date.now() + 1500).toISOString();
    const created = SigningRequestResponse.parse((await coord.api('POST', '/v1/signing-requests', { keyId, message: 'nobody is online', deadline })).body);
    expect(created.status).toBe('pending');
    const done = SigningRequestResponse.parse((await coord.api('GET', `/v1/signing-requests/${created.id}?waitMs=10000`)).body);
    expect(done.status).toBe('expired');
    expect(done.failure?.code).toBe('REQUEST_EXPIRED');
    expect(done.failure?.reason).toMatch(/never answered/);
    expect(done.failure?.culprits).toHaveLength(3);
    const audit = AuditPageResponse.parse((await coord.api('GET', `/v1/audit?requestId=${created.id}`)).body);
    expect(audit.entries.map((e) => e.action)).toEqual(['request.created', 'request.expired']);
  });

  it('pages the audit log with filters', async () => {
    const page = async (query: string) => AuditPageResponse.parse((await coord.api('GET', `/v1/audit?${query}`)).body);
    const page1 = await page('limit=2');
    expect(page1.entries).toHaveLength(2);
    const page2 = await page(`limit=2&after=${page1.nextAfter}`);
    expect(page2.entries[0]!.seq).toBe(page1.entries[1]!.seq + 1);
    const enrolled = await page('action=node.enrolled');
    expect(enrolled.entries.length).toBeGreaterThanOrEqual(3);
    expect(enrolled.entries.every((e) => e.action === 'node.enrolled')).toBe(true);
    const future = await page(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.entries).toHaveLength(0);
  });

  it('reads path ids in any letter case as the same request, and a long-poll under an upper-case id wakes when it settles', async () => {
    const deadline = new Date(Date.now() + 1500).toISOString();
    const created = SigningRequestResponse.parse((await coord.api('POST', '/v1/signing-requests', { keyId, message: 'case-blind', deadline })).body);
    const upper = created.id.toUpperCase();
    const found = SigningRequestResponse.parse((await coord.api('GET', `/v1/signing-requests/${upper}`)).body);
    expect(found.id).toBe(created.id);
    const started = Date.now();
    const done = SigningRequestResponse.parse((await coord.api('GET', `/v1/signing-requests/${upper}?waitMs=20000`)).body);
    expect(done.status).toBe('expired');
    // Settled at its deadline (~1.5 s): woken then, not at the end of the 20 s wait.
    expect(Date.now() - started).toBeLessThan(6000);
    const listed = await coord.api('GET', `/v1/signing-requests?keyId=${keyId.toUpperCase()}&limit=500`);
    expect(SigningRequestResponse.array().parse(listed.body).map((r) => r.id)).toContain(created.id);
  });

  it('shows a utf8 message as text beside its hex, and no text for hex or undecodable bytes', async () => {
    const create = async (body: Record<string, unknown>) =>
      SigningRequestResponse.parse((await coord.api('POST', '/v1/signing-requests', { keyId, ...body })).body);
    const text = await create({ message: 'pay 🍕 to alice', encoding: 'utf8' });
    expect([text.message, text.messageText]).toEqual([Buffer.from('pay 🍕 to alice').toString('hex'), 'pay 🍕 to alice']);
    const hex = await create({ message: Buffer.from('looks like text').toString('hex'), encoding: 'hex' });
    expect(hex.messageText).toBeNull();
    const fetched = SigningRequestResponse.parse((await coord.api('GET', `/v1/signing-requests/${text.id}`)).body);
    expect(fetched.messageText).toBe('pay 🍕 to alice');
  });
});
