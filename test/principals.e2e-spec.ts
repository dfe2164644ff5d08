import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditPageResponse,
  ErrorResponse,
  KeyResponse,
  NodeResponse,
  PrincipalListResponse,
  PrincipalResponse,
  SigningRequestListResponse,
  SigningRequestResponse,
} from '#api';
import { generateIdentity } from '#crypto';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { dealtKeyRegistration } from './support/keys.js';
import { callWith, createPrincipal, dataSourceOf } from './support/principals.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('API principals', () => {
  let coord: TestCoordinator;
  let keyId: string;
  const later = () => new Date(Date.now() + 600_000).toISOString();

  beforeAll(async () => {
    coord = await startTestCoordinator();
    const nodeIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      nodeIds.push(NodeResponse.parse((await coord.api('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: `p-${i}` })).body).id);
    }
    keyId = KeyResponse.parse((await coord.api('POST', '/v1/keys', dealtKeyRegistration('ed25519', 2, nodeIds).body)).body).id;
  });
  afterAll(async () => coord?.destroy());

  it('shows the key once: never again in any answer, and the table keeps only its SHA-256', async () => {
    const created = await createPrincipal(coord, 'ops-bot', 'proposer');
    expect(created).toMatchObject({ name: 'ops-bot', role: 'proposer', status: 'active', createdBy: 'admin', revokedAt: null });
    expect(created.keyFingerprint).toBe(sha256(created.apiKey).slice(0, 16));
    const shown = await coord.api('GET', `/v1/principals/${created.id.toUpperCase()}`);
    const listed = await coord.api('GET', '/v1/principals');
    // The same principal, without the key (the raw body: no field beyond the schema's).
    expect(shown.body).toEqual(PrincipalResponse.parse(created));
    for (const body of [shown.body, listed.body]) {
      expect(JSON.stringify(body)).not.toContain(created.apiKey.slice(3));
      expect(JSON.stringify(body)).not.toContain(sha256(created.apiKey));
    }
    expect(PrincipalListResponse.parse(listed.body).map((p) => p.name)).toContain('ops-bot');

    const rows: Record<string, unknown>[] = await dataSourceOf(coord).query('SELECT * FROM principals WHERE id = $1', [created.id]);
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]!).sort()).toEqual(['api_key_hash', 'created_at', 'created_by', 'id', 'name', 'revoked_at', 'role']);
    expect(rows[0]!.api_key_hash).toBe(sha256(created.apiKey));
    expect(JSON.stringify(rows)).not.toContain(created.apiKey.slice(3));
    // Nor in the audit log, which names the key by its fingerprint only.
    const audit: { details: unknown }[] = await dataSourceOf(coord).query(`SELECT details FROM audit_log WHERE action = 'principal.created'`);
    expect(JSON.stringify(audit)).not.toContain(created.apiKey.slice(3));
    expect(JSON.stringify(audit)).toContain(created.keyFingerprint);
  });

  it('refuses a name taken (409 PRINCIPAL_ALREADY_EXISTS), an unknown role, an unknown principal', async () => {
    await createPrincipal(coord, 'taken', 'auditor');
    const again = await coord.api('POST', '/v1/principals', { name: 'taken', role: 'proposer' });
    expect([again.status, ErrorResponse.parse(again.body).error.code]).toEqual([409, 'PRINCIPAL_ALREADY_EXISTS']);
    for (const body of [{ name: 'x', role: 'approver' }, { name: 'has space', role: 'auditor' }, { name: 'x', role: 'auditor', apiKey: 'rt_mine' }]) {
      const res = await coord.api('POST', '/v1/principals', body);
      expect([res.status, ErrorResponse.parse(res.body).error.code], JSON.stringify(body)).toEqual([400, 'VALIDATION_FAILED']);
    }
    const missing = await coord.api('GET', '/v1/principals/3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41');
    expect([missing.status, ErrorResponse.parse(missing.body).error.code]).toEqual([404, 'PRINCIPAL_NOT_FOUND']);
    const revokeMissing = await coord.api('POST', '/v1/principals/3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41/revoke');
    expect(revokeMissing.status).toBe(404);
  });

  it('refuses a revoked key on the very next call', async () => {
    const p = await createPrincipal(coord, 'short-lived', 'auditor');
    expect((await callWith(coord, p.apiKey, 'GET', '/v1/keys')).status).toBe(200);
    const revoked = PrincipalResponse.parse((await coord.api('POST', `/v1/principals/${p.id}/revoke`)).body);
    expect(revoked).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) as unknown });
    const refused = await callWith(coord, p.apiKey, 'GET', '/v1/keys');
    expect([refused.status, ErrorResponse.parse(refused.body).error.code]).toEqual([401, 'UNAUTHORIZED']);
    // Revoking again changes nothing.
    expect(PrincipalResponse.parse((await coord.api('POST', `/v1/principals/${p.id}/revoke`)).body)).toEqual(revoked);
  });

  it('names the principal in the audit entries its calls cause (kind principal, its id, its role)', async () => {
    const admin = await createPrincipal(coord, 'second-admin', 'admin');
    const enrolled = await callWith(coord, admin.apiKey, 'POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: 'by-principal' });
    expect(enrolled.status).toBe(201);
    const nodeId = NodeResponse.parse(enrolled.body).id;
    const made = await callWith(coord, admin.apiKey, 'POST', '/v1/principals', { name: 'made-by-principal', role: 'auditor' });
    expect(PrincipalResponse.parse(made.body).createdBy).toBe(`principal:${admin.id}`);
    const page = AuditPageResponse.parse((await coord.api('GET', `/v1/audit?nodeId=${nodeId}`)).body);
    expect(page.entries.map((e) => [e.action, e.actor.kind, e.actor.id, e.details.actorRole])).toEqual([['node.enrolled', 'principal', admin.id, 'admin']]);
    const created = AuditPageResponse.parse((await coord.api('GET', '/v1/audit?action=principal.created&limit=1000')).body).entries;
    expect(created.find((e) => e.details.name === 'made-by-principal')).toMatchObject({ actor: { kind: 'principal', id: admin.id }, details: { actorRole: 'admin', role: 'auditor' } });
    // The bootstrap token stays the admin it was.
    expect(created.find((e) => e.details.name === 'second-admin')).toMatchObject({ actor: { kind: 'admin', id: 'admin-token' } });
    expect(created.find((e) => e.details.name === 'second-admin')!.details).not.toHaveProperty('actorRole');
  });

  // wiredByLead: passes once signing-requests.controller.ts has its @Roles, @CurrentActor() and ownRequestsScope.
  it('a proposer creates, reads, lists and cancels its own requests only [wiredByLead]', async () => {
    const mine = await createPrincipal(coord, 'proposer-a', 'proposer');
    const other = await createPrincipal(coord, 'proposer-b', 'proposer');
    const create = async (token: string, text: string) => {
      const res = await callWith(coord, token, 'POST', '/v1/signing-requests', { keyId, payload: { kind: 'text', text }, deadline: later() });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return SigningRequestResponse.parse(res.body);
    };
    const own = await create(mine.apiKey, 'mine');
    const others = await create(other.apiKey, 'theirs');
    const admins = SigningRequestResponse.parse((await coord.api('POST', '/v1/signing-requests', { keyId, payload: { kind: 'text', text: 'admin' }, deadline: later() })).body);

    expect((await callWith(coord, mine.apiKey, 'GET', `/v1/signing-requests/${own.id}`)).status).toBe(200);
    for (const id of [others.id, admins.id]) {
      const res = await callWith(coord, mine.apiKey, 'GET', `/v1/signing-requests/${id}`);
      expect([res.status, ErrorResponse.parse(res.body).error.code]).toEqual([404, 'REQUEST_NOT_FOUND']);
      const cancel = await callWith(coord, mine.apiKey, 'POST', `/v1/signing-requests/${id}/cancel`);
      expect([cancel.status, ErrorResponse.parse(cancel.body).error.code]).toEqual([404, 'REQUEST_NOT_FOUND']);
    }
    const listed = SigningRequestListResponse.parse((await callWith(coord, mine.apiKey, 'GET', '/v1/signing-requests?limit=500')).body);
    expect(listed.map((r) => r.id)).toEqual([own.id]);
    // A filter naming someone else shows nothing of theirs.
    const asked = await callWith(coord, mine.apiKey, 'GET', `/v1/signing-requests?limit=500&proposer=${encodeURIComponent(`principal:${other.id}`)}`);
    expect(asked.status).toBe(200);
    expect(SigningRequestListResponse.parse(asked.body).map((r) => r.id)).not.toContain(others.id);
    // An admin and an auditor see everyone's.
    const all = SigningRequestListResponse.parse((await coord.api('GET', '/v1/signing-requests?limit=500')).body).map((r) => r.id);
    expect(all).toEqual(expect.arrayContaining([own.id, others.id, admins.id]));

    const cancelled = await callWith(coord, mine.apiKey, 'POST', `/v1/signing-requests/${own.id}/cancel`);
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(SigningRequestResponse.parse(cancelled.body).status).toBe('cancelled');

    const entries = AuditPageResponse.parse((await coord.api('GET', `/v1/audit?requestId=${own.id}`)).body).entries;
    for (const action of ['request.created', 'request.cancelled'] as const) {
      expect(entries.find((e) => e.action === action), action).toMatchObject({ actor: { kind: 'principal', id: mine.id }, details: { actorRole: 'proposer' } });
    }
  });
});
