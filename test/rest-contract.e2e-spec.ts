import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  AuditPageResponse,
  AuditVerifyResponse,
  CeremonyListResponse,
  CeremonyResponse,
  ErrorResponse,
  HealthResponse,
  KeyListResponse,
  KeyResponse,
  NodeListResponse,
  NodeResponse,
  SigningRequestListResponse,
  SigningRequestResponse,
} from '#api';
import { generateIdentity } from '#crypto';
import { initKeystore, KDF_COSTS, runDealer, type SignerNode } from '#signer';
import { countQueries } from '../libs/persistence/src/testing/query-counter.js';
import { ADMIN_TOKEN, startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { dealtKeyRegistration } from './support/keys.js';
import { RawNode } from './support/raw-node.js';
import { realSignerNode } from './support/signer-node.js';

type Answer = { status: number; body: unknown };

/**
 * Every endpoint's answer, checked against its response schema in libs/api: it parses, and parsing
 * changes nothing (no field outside the schema, nothing the schema would rewrite).
 */
function conforms<S extends z.ZodType>(schema: S, res: Answer, status: number): z.output<S> {
  expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(status);
  const parsed = schema.safeParse(res.body);
  expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  expect(parsed.data).toEqual(res.body);
  return parsed.data as z.output<S>;
}

describe('REST contract: every endpoint answers what libs/api says', () => {
  let coord: TestCoordinator;
  const root = join(tmpdir(), `roundtable-contract-${process.pid}-${Date.now()}`);
  const keystores = [1, 2, 3].map((i) => join(root, `node-${i}`));
  const signers: SignerNode[] = [];
  const idle: RawNode[] = [];
  const nodeIds: string[] = [];
  const idleIds: string[] = [];
  const later = () => new Date(Date.now() + 600_000).toISOString();

  beforeAll(async () => {
    coord = await startTestCoordinator();
    for (const [i, dir] of keystores.entries()) {
      const { publicKey } = await initKeystore({ keystore: dir, passphrase: `contract ${i}`, kdfCost: KDF_COSTS.test });
      nodeIds.push(conforms(NodeResponse, await coord.api('POST', '/v1/nodes', { publicKey, label: `signer-${i + 1}` }), 201).id);
    }
    for (const [i, dir] of keystores.entries()) {
      const node = realSignerNode(coord, dir, `contract ${i}`);
      await node.start();
      signers.push(node);
    }
    // Two connected nodes that never answer: their ceremonies stay in round 1.
    for (let i = 0; i < 2; i++) {
      const identity = generateIdentity();
      idleIds.push(conforms(NodeResponse, await coord.api('POST', '/v1/nodes', { publicKey: identity.publicKey, label: `idle-${i}` }), 201).id);
      const raw = await RawNode.connect(coord.wsUrl, identity);
      await raw.next('auth.ok');
      idle.push(raw);
    }
    for (let i = 0; i < 200; i++) {
      const listed = conforms(NodeListResponse, await coord.api('GET', '/v1/nodes'), 200);
      if (listed.filter((n) => n.connected).length === 5) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    await Promise.all(signers.map((n) => n.stop()));
    for (const raw of idle) raw.close();
    await coord?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('nodes: enroll, list, get, revoke, restore', async () => {
    const listed = conforms(NodeListResponse, await coord.api('GET', '/v1/nodes'), 200);
    expect(listed.filter((n) => n.connected).map((n) => n.id).sort()).toEqual([...nodeIds, ...idleIds].sort());
    const enrolled = conforms(NodeResponse, await coord.api('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: 'spare' }), 201);
    expect(conforms(NodeResponse, await coord.api('GET', `/v1/nodes/${enrolled.id}`), 200)).toEqual(enrolled);
    expect(conforms(NodeResponse, await coord.api('POST', `/v1/nodes/${enrolled.id}/revoke`), 200).status).toBe('revoked');
    expect(conforms(NodeResponse, await coord.api('POST', `/v1/nodes/${enrolled.id}/restore`), 200)).toMatchObject({ status: 'active', revokedAt: null });
  });

  it('ceremonies, keys and signing requests: start, follow, list; register, retire; sign, wait, list', async () => {
    const started = conforms(CeremonyResponse, await coord.api('POST', '/v1/ceremonies', { suite: 'ed25519', threshold: 2, nodeIds }), 201);
    let ceremony = started;
    for (let i = 0; i < 200 && ceremony.status !== 'completed' && ceremony.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ceremony = conforms(CeremonyResponse, await coord.api('GET', `/v1/ceremonies/${started.id}`), 200);
    }
    expect(ceremony).toMatchObject({ status: 'completed', round1Received: expect.any(Array) as unknown });
    expect([ceremony.round1Received.length, ceremony.round2Received.length, ceremony.resultsReceived.length]).toEqual([3, 3, 3]);
    conforms(CeremonyListResponse, await coord.api('GET', '/v1/ceremonies'), 200);

    const ceremonyKey = conforms(KeyResponse, await coord.api('GET', `/v1/keys/${ceremony.keyId}`), 200);
    expect(ceremonyKey.origin).toBe(`ceremony:${ceremony.id}`);
    const dealt = await runDealer({ coordinatorUrl: coord.httpUrl, adminToken: ADMIN_TOKEN, suite: 'secp256k1', threshold: 2, keystores });
    const dealerKey = conforms(KeyResponse, await coord.api('GET', `/v1/keys/${dealt.keyId}`), 200);
    expect(dealerKey.origin).toBe('dealer');
    expect(conforms(KeyListResponse, await coord.api('GET', '/v1/keys'), 200).map((k) => k.id)).toEqual(
      expect.arrayContaining([ceremonyKey.id, dealerKey.id]),
    );

    for (const [keyId, body] of [
      [ceremonyKey.id, { message: 'pay 🍕 to alice', encoding: 'utf8' }],
      [dealerKey.id, { message: 'deadbeef', encoding: 'hex', idempotencyKey: 'contract-1', deadline: later() }],
    ] as const) {
      const created = conforms(SigningRequestResponse, await coord.api('POST', '/v1/signing-requests', { keyId, description: 'contract', ...body }), 201);
      const done = conforms(SigningRequestResponse, await coord.api('GET', `/v1/signing-requests/${created.id}?waitMs=20000`), 200);
      expect(done.status).toBe('completed');
      expect(done.attempts.length).toBeGreaterThanOrEqual(1);
      expect(done.messageText).toBe(body.encoding === 'utf8' ? body.message : null);
    }
    conforms(SigningRequestListResponse, await coord.api('GET', '/v1/signing-requests'), 200);
    conforms(SigningRequestListResponse, await coord.api('GET', `/v1/signing-requests?status=completed&keyId=${dealerKey.id}&limit=5&offset=0`), 200);
    expect(conforms(KeyResponse, await coord.api('POST', `/v1/keys/${dealerKey.id}/retire`), 200).status).toBe('retired');
  });

  it('audit: a page of entries and the chain verdict; health', async () => {
    const page = conforms(AuditPageResponse, await coord.api('GET', '/v1/audit?limit=5'), 200);
    expect(page.nextAfter).toBe(page.entries[4]!.seq);
    conforms(AuditPageResponse, await coord.api('GET', `/v1/audit?after=${page.nextAfter}&limit=1000`), 200);
    expect(conforms(AuditVerifyResponse, await coord.api('GET', '/v1/audit/verify'), 200).ok).toBe(true);
    const health = await fetch(`${coord.httpUrl}/health`);
    expect(conforms(HealthResponse, { status: health.status, body: await health.json() }, 200).status).toBe('ok');
  });

  it('errors: one body for every refusal', async () => {
    const refusals: [string, string, unknown, number][] = [
      ['GET', '/v1/nodes/not-a-uuid', undefined, 400],
      ['GET', '/v1/keys/3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41', undefined, 404],
      ['POST', '/v1/nodes', { publicKey: 'zz', label: 'x' }, 400],
      ['GET', '/v1/audit?bogus=1', undefined, 400],
      ['GET', '/v1/no-such-route', undefined, 404],
    ];
    for (const [method, path, body, status] of refusals) conforms(ErrorResponse, await coord.api(method, path, body), status);
    const unauthorized = await fetch(`${coord.httpUrl}/v1/nodes`);
    conforms(ErrorResponse, { status: unauthorized.status, body: await unauthorized.json() }, 401);
  });

  it('cancel: 200 with the cancelled request, then the error body (409) for a request already over', async () => {
    const key = conforms(KeyResponse, await coord.api('POST', '/v1/keys', dealtKeyRegistration('ed25519', 2, idleIds).body), 201);
    const created = conforms(SigningRequestResponse, await coord.api('POST', '/v1/signing-requests', { keyId: key.id, message: 'to cancel', description: 'x' }), 201);
    const cancelled = conforms(SigningRequestResponse, await coord.api('POST', `/v1/signing-requests/${created.id}/cancel`, { reason: 'contract' }), 200);
    expect(cancelled).toMatchObject({ status: 'cancelled', failure: { code: 'REQUEST_CANCELLED' } });
    expect(conforms(ErrorResponse, await coord.api('POST', `/v1/signing-requests/${created.id}/cancel`), 409)).toMatchObject({ error: { code: 'REQUEST_FINISHED' } });
  });

  it('lists answer in the same number of queries for one row as for a whole page', async () => {
    // Rows to list: requests that stay pending (a key over the idle nodes) and ceremonies that stay in round 1.
    const idleKey = conforms(KeyResponse, await coord.api('POST', '/v1/keys', dealtKeyRegistration('ed25519', 2, idleIds).body), 201);
    for (let i = 0; i < 6; i++) {
      const r = await coord.api('POST', '/v1/signing-requests', { keyId: idleKey.id, message: `row ${i}`, deadline: later(), description: 'x' });
      const c = await coord.api('POST', '/v1/ceremonies', { suite: 'ed25519', threshold: 2, nodeIds: idleIds, deadlineMs: 600_000 });
      expect([r.status, c.status]).toEqual([201, 201]);
    }
    for (const [path, schema] of [
      ['/v1/signing-requests', SigningRequestListResponse],
      ['/v1/ceremonies', CeremonyListResponse],
    ] as const) {
      const one = await countQueries(coord.app, () => coord.api('GET', `${path}?limit=1`));
      const all = await countQueries(coord.app, () => coord.api('GET', `${path}?limit=500`));
      expect(conforms(schema, one.result, 200)).toHaveLength(1);
      expect(conforms(schema, all.result, 200).length).toBeGreaterThanOrEqual(7);
      expect([path, all.queries]).toEqual([path, one.queries]);
      // Requests: the page, its attempts, its keys (and their members), the members' nodes (labels), their decisions.
      expect(all.queries).toBeLessThanOrEqual(6);
    }
  });
});
