import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditPageResponse, ConsoleSessionResponse, ErrorResponse, GrantResponse, NodeResponse, type AuditEntryResponse } from '#api';
import { generateIdentity } from '#crypto';
import { ADMIN_TOKEN, startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { CookieCaller } from './support/console-session.js';
import { dealtKeyRegistration } from './support/keys.js';
import { createPrincipal, dataSourceOf } from './support/principals.js';

const codeOf = (body: unknown): string | undefined => ErrorResponse.safeParse(body).data?.error.code;

/**
 * The web console's sessions (docs/protocol.md §11): sign-in with an API key or the admin token, the
 * httpOnly cookie and what is (not) stored of it, CSRF on every state change, revocation and expiry
 * taking effect on the next call, sign-out, and the audit entries of all of it. Real app, real database.
 */
describe('console sessions: cookie, CSRF, revocation, expiry, audit', () => {
  let coord: TestCoordinator;
  let keyId: string;

  const audit = async (action: string): Promise<AuditEntryResponse[]> =>
    AuditPageResponse.parse((await coord.api('GET', `/v1/audit?action=${action}&limit=1000`)).body).entries;

  beforeAll(async () => {
    coord = await startTestCoordinator();
    const nodeIds: string[] = [];
    for (let i = 0; i < 2; i++) nodeIds.push(NodeResponse.parse((await coord.api('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: `n${i}` })).body).id);
    keyId = ((await coord.api('POST', '/v1/keys', dealtKeyRegistration('ed25519', 2, nodeIds).body)).body as { id: string }).id;
  });
  afterAll(async () => coord?.destroy());

  it('refuses a wrong admin token, an unknown key and a revoked key alike (401, one message), auditing each without the key', async () => {
    const revoked = await createPrincipal(coord, 'console-revoked', 'auditor');
    expect((await coord.api('POST', `/v1/principals/${revoked.id}/revoke`)).status).toBe(200);
    const before = (await audit('console.sign_in_failed')).length;
    const tries = [`${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1), `rt_${Buffer.alloc(32, 9).toString('base64url')}`, revoked.apiKey, 'x'];
    const messages = new Set<string>();
    for (const apiKey of tries) {
      const res = await new CookieCaller(coord).call('POST', '/v1/console/session', { body: { apiKey } });
      expect([res.status, codeOf(res.body), res.setCookie], apiKey).toEqual([401, 'UNAUTHORIZED', null]);
      messages.add(ErrorResponse.parse(res.body).error.message);
    }
    expect(messages.size).toBe(1);
    const failed = (await audit('console.sign_in_failed')).slice(before);
    expect(failed.map((e) => [e.actor.kind, e.actor.id, e.outcome, e.details])).toEqual(tries.map(() => ['system', 'console', 'failure', { remoteAddress: '127.0.0.1' }]));
    for (const apiKey of tries) expect(JSON.stringify(failed)).not.toContain(apiKey);
    const malformed = await new CookieCaller(coord).call('POST', '/v1/console/session', { body: { apiKey: '' } });
    expect([malformed.status, codeOf(malformed.body)]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('signs in with the admin token: an httpOnly SameSite=Strict cookie whose secret is stored only as its hash', async () => {
    const caller = new CookieCaller(coord);
    const res = await caller.call('POST', '/v1/console/session', { body: { apiKey: ADMIN_TOKEN } });
    expect(res.status).toBe(201);
    expect(res.setCookie).toMatch(/^rt_console=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=28800$/);
    const session = ConsoleSessionResponse.parse(res.body);
    expect(session).toMatchObject({ role: 'admin', actor: { kind: 'admin', id: 'admin-token', name: null } });
    expect(Date.parse(session.expiresAt) - Date.now()).toBeGreaterThan(8 * 3_600_000 - 60_000);
    const secret = /^rt_console=([^;]+)/.exec(res.setCookie!)![1]!;
    const rows: Record<string, unknown>[] = await dataSourceOf(coord).query('SELECT * FROM console_sessions WHERE id = $1', [createHash('sha256').update(secret).digest('hex')]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_kind: 'admin', actor_id: 'admin-token', actor_role: 'admin', csrf_token: session.csrfToken, ended_at: null });
    const all = JSON.stringify(await dataSourceOf(coord).query('SELECT * FROM console_sessions'));
    expect(all).not.toContain(secret);
    expect(JSON.stringify(await audit('console.signed_in'))).not.toContain(secret);
  });

  it('reads the session back with the cookie (the CSRF token again), and 401 without it or with a bearer token only', async () => {
    const caller = new CookieCaller(coord);
    const signedIn = await caller.signIn(ADMIN_TOKEN);
    const again = await caller.call('GET', '/v1/console/session');
    expect([again.status, ConsoleSessionResponse.parse(again.body)]).toEqual([200, signedIn]);
    const none = await new CookieCaller(coord).call('GET', '/v1/console/session');
    expect([none.status, codeOf(none.body)]).toEqual([401, 'UNAUTHORIZED']);
    const bearer = await coord.api('GET', '/v1/console/session');
    expect([bearer.status, codeOf(bearer.body)]).toEqual([401, 'UNAUTHORIZED']);
    const forged = new CookieCaller(coord);
    forged.cookie = `rt_console=${'A'.repeat(43)}`;
    expect((await forged.call('GET', '/v1/nodes')).status).toBe(401);
  });

  it('needs the session\'s X-CSRF-Token on every call that changes state (403 CSRF_INVALID), not on reads', async () => {
    const caller = new CookieCaller(coord);
    await caller.signIn(ADMIN_TOKEN);
    expect((await caller.call('GET', '/v1/nodes', { csrf: null })).status).toBe(200);
    const other = new CookieCaller(coord);
    await other.signIn(ADMIN_TOKEN);
    const body = { publicKey: generateIdentity().publicKey, label: 'via console' };
    for (const csrf of [null, '', 'A'.repeat(43), other.csrfToken, `${caller.csrfToken}x`]) {
      const res = await caller.call('POST', '/v1/nodes', { body, csrf });
      expect([res.status, codeOf(res.body)], String(csrf)).toEqual([403, 'CSRF_INVALID']);
    }
    expect((await coord.api<unknown[]>('GET', '/v1/nodes')).body.filter((n) => (n as { label: string }).label === 'via console')).toEqual([]);
    const ok = await caller.call('POST', '/v1/nodes', { body });
    expect(ok.status).toBe(201);
    // Bearer callers are unchanged: no CSRF token needed.
    expect((await coord.api('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: 'bearer' })).status).toBe(201);
  });

  it('gives an auditor reads only: a revoke with CSRF is FORBIDDEN, a forged one without is CSRF_INVALID', async () => {
    const auditor = await createPrincipal(coord, 'console-auditor', 'auditor');
    const caller = new CookieCaller(coord);
    const session = await caller.signIn(auditor.apiKey);
    expect(session).toMatchObject({ role: 'auditor', actor: { kind: 'principal', id: auditor.id, name: 'console-auditor' } });
    const grant = GrantResponse.parse(
      (
        await coord.api('POST', '/v1/grants', {
          keyId,
          grantee: { kind: 'ed25519', publicKey: generateIdentity().publicKey },
          label: 'console grant',
          validUntil: Date.now() + 3_600_000,
          scope: { kinds: ['text'] },
        })
      ).body,
    );
    expect((await caller.call('GET', `/v1/grants/${grant.id}`)).status).toBe(200);
    expect((await caller.call('GET', '/v1/audit/export?format=csv')).status).toBe(200);
    const forged = await caller.call('POST', `/v1/grants/${grant.id}/revoke`, { body: {}, csrf: null });
    expect([forged.status, codeOf(forged.body)]).toEqual([403, 'CSRF_INVALID']);
    const refused = await caller.call('POST', `/v1/grants/${grant.id}/revoke`, { body: {} });
    expect([refused.status, codeOf(refused.body)]).toEqual([403, 'FORBIDDEN']);
    expect(GrantResponse.parse((await coord.api('GET', `/v1/grants/${grant.id}`)).body).status).toBe('proposed');
    expect((await caller.call('GET', '/v1/principals')).status).toBe(403);
  });

  it('lets a proposer revoke its own grant through the cookie, named as itself in the audit log', async () => {
    const proposer = await createPrincipal(coord, 'console-proposer', 'proposer');
    const caller = new CookieCaller(coord);
    await caller.signIn(proposer.apiKey);
    const created = await caller.call('POST', '/v1/grants', {
      body: { keyId, grantee: { kind: 'ed25519', publicKey: generateIdentity().publicKey }, label: 'mine', validUntil: Date.now() + 3_600_000, scope: { kinds: ['text'] } },
    });
    expect(created.status).toBe(201);
    const id = GrantResponse.parse(created.body).id;
    const revoked = await caller.call('POST', `/v1/grants/${id}/revoke`, { body: { reason: 'from the console' } });
    expect([revoked.status, GrantResponse.parse(revoked.body).revokedBy]).toEqual([200, `principal:${proposer.id}`]);
  });

  it('ends a principal\'s session on its next call once the principal is revoked', async () => {
    const p = await createPrincipal(coord, 'console-soon-revoked', 'auditor');
    const caller = new CookieCaller(coord);
    await caller.signIn(p.apiKey);
    expect((await caller.call('GET', '/v1/keys')).status).toBe(200);
    expect((await coord.api('POST', `/v1/principals/${p.id}/revoke`)).status).toBe(200);
    for (const [method, path] of [['GET', '/v1/keys'], ['GET', '/v1/console/session'], ['POST', '/v1/console/session/end']] as const) {
      const res = await caller.call(method, path);
      expect([method, path, res.status, codeOf(res.body)]).toEqual([method, path, 401, 'UNAUTHORIZED']);
    }
  });

  it('refuses an expired session (401)', async () => {
    const caller = new CookieCaller(coord);
    await caller.signIn(ADMIN_TOKEN);
    const secret = caller.cookie!.slice('rt_console='.length);
    await dataSourceOf(coord).query(`UPDATE console_sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [createHash('sha256').update(secret).digest('hex')]);
    const res = await caller.call('GET', '/v1/keys');
    expect([res.status, codeOf(res.body)]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('signs out: CSRF-checked, the cookie cleared, the session over everywhere, audited once', async () => {
    const caller = new CookieCaller(coord);
    await caller.signIn(ADMIN_TOKEN);
    const before = (await audit('console.signed_out')).length;
    const forged = await caller.call('POST', '/v1/console/session/end', { csrf: null });
    expect([forged.status, codeOf(forged.body)]).toEqual([403, 'CSRF_INVALID']);
    const ended = await caller.call('POST', '/v1/console/session/end');
    expect([ended.status, ended.body, ended.setCookie]).toEqual([200, { ended: true }, 'rt_console=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0']);
    const after = await caller.call('GET', '/v1/console/session');
    expect([after.status, codeOf(after.body)]).toEqual([401, 'UNAUTHORIZED']);
    const entries = (await audit('console.signed_out')).slice(before);
    expect(entries.map((e) => [e.actor.kind, e.actor.id, e.outcome])).toEqual([['admin', 'admin-token', 'success']]);
    expect(entries[0]!.details.session).toMatch(/^[0-9a-f]{16}$/);
  });
});
