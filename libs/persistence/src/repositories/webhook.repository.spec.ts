import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, type WebhookPayload, type WebhookRecord } from '#domain';
import { at } from '../testing/fixtures.js';
import { useMigratedStore } from '../testing/migrated-store.js';

const aWebhook = (overrides: Partial<WebhookRecord> = {}): WebhookRecord => ({
  id: randomUUID(),
  url: 'http://127.0.0.1:9/hook',
  events: ['request.pending', 'request.completed'],
  description: null,
  secret: newWebhookSecret(),
  createdAt: at('2026-03-01T10:00:00.000Z'),
  createdBy: 'admin',
  disabledAt: null,
  ...overrides,
});
const payload = (type: WebhookPayload['type'], n = 0): WebhookPayload => ({ type, timestamp: '2026-03-01T10:00:00.000Z', data: { requestId: randomUUID(), n } });

describe('webhooks: outbox repository on a real database', () => {
  const t = useMigratedStore();

  it('enqueues one delivery per enabled subscribed webhook, in the caller transaction; a rolled-back change leaves none', async () => {
    const both = aWebhook();
    const completedOnly = aWebhook({ events: ['request.completed'] });
    const disabled = aWebhook({ disabledAt: at('2026-03-01T11:00:00.000Z') });
    await t.store.transaction(async (tx) => {
      for (const w of [both, completedOnly, disabled]) await tx.webhooks.insert(w);
    });
    expect(await t.store.read.webhooks.findById(both.id)).toEqual(both);
    const n = await t.store.transaction((tx) => tx.webhooks.enqueue([payload('request.pending'), payload('request.completed'), payload('grant.revoked')], new Date()));
    expect(n).toBe(3);
    expect((await t.store.read.webhooks.listDeliveries(both.id, 10)).map((d) => d.eventType).sort()).toEqual(['request.completed', 'request.pending']);
    expect((await t.store.read.webhooks.listDeliveries(completedOnly.id, 10)).map((d) => d.eventType)).toEqual(['request.completed']);
    expect(await t.store.read.webhooks.listDeliveries(disabled.id, 10)).toEqual([]);

    await expect(
      t.store.transaction(async (tx) => {
        await tx.webhooks.enqueue([payload('request.completed', 1)], new Date());
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await t.store.read.webhooks.listDeliveries(completedOnly.id, 10)).toHaveLength(1);

    // Disabling settles what is pending: nothing more is claimed for it.
    await t.store.transaction((tx) => tx.webhooks.disable(completedOnly.id, new Date()));
    expect((await t.store.read.webhooks.listDeliveries(completedOnly.id, 10)).map((d) => [d.status, d.lastError])).toEqual([['failed', 'webhook disabled']]);
  });

  it('claims a due delivery once: concurrent workers (two connections) split the batch, a leased one is not claimed again', async () => {
    const w = aWebhook({ events: ['request.failed'] });
    await t.store.transaction((tx) => tx.webhooks.insert(w));
    const created = new Date(Date.now() - 1_000);
    await t.store.transaction((tx) => tx.webhooks.enqueue(Array.from({ length: 12 }, (_, i) => payload('request.failed', i)), created));
    // On PostgreSQL the two transactions run at once on two pooled connections, as two instances would.
    const now = new Date();
    const lease = new Date(now.getTime() + 60_000);
    const [a, b] = await Promise.all([
      t.store.transaction((tx) => tx.webhooks.claimDue(now, lease, 8)),
      t.store.transaction((tx) => tx.webhooks.claimDue(now, lease, 8)),
    ]);
    // (The first test's two deliveries of another webhook are due too.)
    const all = [...a, ...b].map((c) => c.delivery.id);
    expect(new Set(all).size).toBe(all.length);
    const mine = [...a, ...b].filter((c) => c.delivery.webhookId === w.id);
    const ids = mine.map((c) => c.delivery.id);
    expect(ids).toHaveLength(12);
    for (const c of mine) {
      expect(c).toMatchObject({ url: w.url, secret: w.secret });
      expect(c.delivery).toMatchObject({ attempts: 1, status: 'pending', nextAttemptAt: lease });
    }
    // Leased: nothing is due until the lease ends.
    expect(await t.store.transaction((tx) => tx.webhooks.claimDue(new Date(), lease, 50))).toEqual([]);

    const first = mine[0]!.delivery;
    await t.store.transaction((tx) => tx.webhooks.recordAttempt(first.id, { at: now, status: 'delivered', responseStatus: 204, error: null, nextAttemptAt: null }));
    const [view] = (await t.store.read.webhooks.listDeliveries(w.id, 50)).filter((d) => d.id === first.id);
    expect(view).toMatchObject({ status: 'delivered', lastResponseStatus: 204, deliveredAt: now, nextAttemptAt: null, attempts: 1 });
    // Once the lease has ended, the others are due again (a worker that died frees them).
    const again = await t.store.transaction((tx) => tx.webhooks.claimDue(new Date(lease.getTime() + 1), new Date(lease.getTime() + 120_000), 50));
    const mineAgain = again.filter((c) => c.delivery.webhookId === w.id);
    expect(mineAgain.map((c) => c.delivery.id).sort()).toEqual(ids.filter((id) => id !== first.id).sort());
    expect(mineAgain.every((c) => c.delivery.attempts === 2)).toBe(true);
  });
});
