import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiKeyHash, newApiKey, PrincipalsService, type PrincipalRecord } from '#domain';
import { at } from '../testing/fixtures.js';
import { useMigratedStore } from '../testing/migrated-store.js';

const aPrincipal = (overrides: Partial<PrincipalRecord> = {}): PrincipalRecord => ({
  id: randomUUID(),
  name: `p-${randomUUID().slice(0, 8)}`,
  role: 'proposer',
  apiKeyHash: apiKeyHash(newApiKey()),
  createdAt: at('2026-03-01T10:00:00.000Z'),
  createdBy: 'admin',
  revokedAt: null,
  ...overrides,
});

describe('principals: repository and service on a real database', () => {
  const t = useMigratedStore();

  it('round-trips, finds by name and by key hash, revokes; lists in creation order', async () => {
    const first = aPrincipal({ createdAt: at('2026-03-01T10:00:00.000Z') });
    const second = aPrincipal({ role: 'auditor', createdAt: at('2026-03-01T11:00:00.000Z') });
    await t.store.transaction(async (tx) => {
      await tx.principals.insert(second);
      await tx.principals.insert(first);
    });
    expect(await t.store.read.principals.findById(first.id)).toEqual(first);
    expect(await t.store.read.principals.findById('not-a-uuid')).toBeNull();
    expect(await t.store.read.principals.findByName(second.name)).toEqual(second);
    expect(await t.store.read.principals.findByApiKeyHash(first.apiKeyHash)).toEqual(first);
    expect(await t.store.read.principals.findByApiKeyHash('00'.repeat(32))).toBeNull();
    const ids = (await t.store.read.principals.list()).map((p) => p.id);
    expect(ids.indexOf(first.id)).toBeLessThan(ids.indexOf(second.id));

    await t.store.transaction((tx) => tx.principals.revoke(first.id, at('2026-03-02T10:00:00.456Z')));
    expect((await t.store.read.principals.findById(first.id))?.revokedAt).toEqual(at('2026-03-02T10:00:00.456Z'));
    await expect(t.store.transaction((tx) => tx.principals.revoke(randomUUID(), new Date()))).rejects.toThrow(/not found/);
  });

  it('refuses a second principal of the same name (PRINCIPAL_ALREADY_EXISTS), and a role outside the three', async () => {
    const taken = aPrincipal();
    await t.store.transaction((tx) => tx.principals.insert(taken));
    await expect(t.store.transaction((tx) => tx.principals.insert(aPrincipal({ name: taken.name })))).rejects.toMatchObject({
      code: 'PRINCIPAL_ALREADY_EXISTS',
    });
    await expect(t.store.transaction((tx) => tx.principals.insert(aPrincipal({ role: 'approver' as never })))).rejects.toThrow(/principals_role_check/);
  });

  it('service: the key is returned once, stored only as its hash, and stops authenticating once revoked', async () => {
    const service = new PrincipalsService(t.store);
    const actor = { kind: 'admin', id: 'admin-token' } as const;
    const { principal, apiKey } = await service.create({ name: 'treasury-bot', role: 'proposer' }, actor);
    expect(apiKey).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    const rows: Record<string, unknown>[] = await t.dataSource.query('SELECT * FROM principals WHERE id = $1', [principal.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.api_key_hash).toBe(apiKeyHash(apiKey));
    expect(JSON.stringify(rows)).not.toContain(apiKey.slice(3));
    expect(await service.authenticate(apiKey)).toEqual(principal);
    expect(await service.authenticate(`${apiKey.slice(0, -1)}${apiKey.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect(await service.authenticate('admin-token-not-an-api-key')).toBeNull();

    await expect(service.create({ name: 'treasury-bot', role: 'auditor' }, actor)).rejects.toMatchObject({ code: 'PRINCIPAL_ALREADY_EXISTS' });
    const revoked = await service.revoke(principal.id, actor);
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect(await service.authenticate(apiKey)).toBeNull();
    expect(await service.revoke(principal.id, actor)).toEqual(revoked);
    await expect(service.get(randomUUID())).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });

    const audit = await t.store.read.audit.query({ limit: 100 });
    const entries = audit.filter((e) => e.details.principalId === principal.id);
    expect(entries.map((e) => [e.action, e.actorKind, e.actorId])).toEqual([
      ['principal.created', 'admin', 'admin-token'],
      ['principal.revoked', 'admin', 'admin-token'],
    ]);
    expect(JSON.stringify(entries)).not.toContain(apiKey);
    expect(entries[0]!.details).toMatchObject({ name: 'treasury-bot', role: 'proposer', keyFingerprint: apiKeyHash(apiKey).slice(0, 16) });
  });
});
