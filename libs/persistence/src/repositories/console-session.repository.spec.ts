import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConsoleSessionsService, consoleSessionId, PrincipalsService, type Actor } from '#domain';
import { useMigratedStore } from '../testing/migrated-store.js';

const ADMIN: Actor = { kind: 'admin', id: 'admin-token' };
const HOUR = 3_600_000;

describe('console sessions: repository and service on a real database', () => {
  const t = useMigratedStore();

  it('stores a session under the hash of its secret, resolves it, ends it once (audited once)', async () => {
    const sessions = new ConsoleSessionsService(t.store);
    const { secret, session } = await sessions.start(ADMIN, 8 * HOUR, { remoteAddress: '10.0.0.7' });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.id).toBe(consoleSessionId(secret));
    expect(await t.store.read.consoleSessions.findById(session.id)).toEqual(session);
    expect(await t.store.read.consoleSessions.findById('not-hex')).toBeNull();
    const view = await sessions.resolve(secret);
    expect(view).toEqual({ session, actor: ADMIN });
    expect(await sessions.resolve(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect(await sessions.resolve('short')).toBeNull();

    await sessions.end(view!);
    await sessions.end(view!);
    expect(await sessions.resolve(secret)).toBeNull();
    const audit = (await t.store.read.audit.query({ limit: 100 })).filter((e) => e.details.session === session.id.slice(0, 16));
    expect(audit.map((e) => [e.action, e.actorKind, e.actorId])).toEqual([
      ['console.signed_in', 'admin', 'admin-token'],
      ['console.signed_out', 'admin', 'admin-token'],
    ]);
    expect(audit[0]!.details).toMatchObject({ remoteAddress: '10.0.0.7', expiresAt: session.expiresAt.toISOString() });
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('refuses an expired session, and a principal revoked (or gone) since sign-in; reads the role each time', async () => {
    const principals = new PrincipalsService(t.store);
    const sessions = new ConsoleSessionsService(t.store);
    const { principal } = await principals.create({ name: `console-${randomUUID().slice(0, 8)}`, role: 'auditor' }, ADMIN);
    const actor: Actor = { kind: 'principal', id: principal.id, role: 'auditor' };
    const signedIn = await sessions.start(actor, 8 * HOUR);
    expect(signedIn.session).toMatchObject({ actorKind: 'principal', actorId: principal.id, actorRole: 'auditor' });
    expect((await sessions.resolve(signedIn.secret))?.actor).toEqual(actor);
    expect(await sessions.resolve(signedIn.secret, new Date(Date.now() + 9 * HOUR))).toBeNull();
    await principals.revoke(principal.id, ADMIN);
    expect(await sessions.resolve(signedIn.secret)).toBeNull();

    const ghost = await sessions.start({ kind: 'principal', id: randomUUID(), role: 'proposer' }, HOUR);
    expect(await sessions.resolve(ghost.secret)).toBeNull();
    await expect(sessions.start({ kind: 'node', id: randomUUID() }, HOUR)).rejects.toThrow(/cannot sign in/);
  });

  it('deletes sessions that expired more than a day ago when someone signs in', async () => {
    const sessions = new ConsoleSessionsService(t.store);
    const long = new Date(Date.now() - 3 * 86_400_000);
    const old = await sessions.start(ADMIN, HOUR, {}, long);
    expect(await t.store.read.consoleSessions.findById(old.session.id)).not.toBeNull();
    // Expired an hour ago: kept; expired 71 hours ago: deleted by this sign-in.
    const recent = await sessions.start(ADMIN, HOUR, {}, new Date(Date.now() - 2 * HOUR));
    await sessions.start(ADMIN, HOUR);
    expect(await t.store.read.consoleSessions.findById(old.session.id)).toBeNull();
    expect(await t.store.read.consoleSessions.findById(recent.session.id)).not.toBeNull();
    expect(await sessions.resolve(recent.secret)).toBeNull();
  });

  it('records a failed sign-in with where it came from and nothing else', async () => {
    const sessions = new ConsoleSessionsService(t.store);
    await sessions.recordFailedSignIn({ remoteAddress: '192.0.2.1' });
    const [entry] = (await t.store.read.audit.query({ action: 'console.sign_in_failed', limit: 10 })).slice(-1);
    expect(entry).toMatchObject({ actorKind: 'system', actorId: 'console', outcome: 'failure', details: { remoteAddress: '192.0.2.1' } });
  });
});
