import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { CreateWebhookResponse, ErrorResponse, WebhookListResponse, WebhookViewResponse, type WebhookEventType } from '#api';
import { newWebhookSecret } from '#domain';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { scriptedSigners, type ScriptedSigner } from './support/scripted-signer.js';
import { WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';

type Payload = { type: WebhookEventType; timestamp: string; data: Record<string, unknown> };

/**
 * Webhooks (issue 11, section 3) through the real app, real sockets and the real database: events of a
 * signing session and of a cancel reach a local receiver signed as Standard Webhooks says (checked with
 * the `standardwebhooks` package), a receiver that is down gets its delivery once it is back, the
 * delivery log shows every attempt, and a forged or altered delivery does not verify.
 */
describe('webhooks: signed deliveries, retries and the delivery log', () => {
  let coord: TestCoordinator;
  let signers: ScriptedSigner[];
  let keyId: string;
  let receiver: WebhookReceiver;
  let hook: CreateWebhookResponse;

  beforeAll(async () => {
    coord = await startTestCoordinator({ webhookRetryDelaysMs: [300, 300, 300, 300, 300, 300, 300, 300], webhookPollIntervalMs: 50, webhookTimeoutMs: 2_000 });
    ({ keyId, signers } = await scriptedSigners(coord, 2, 3));
    receiver = await WebhookReceiver.start();
    hook = await createWebhook({ url: receiver.url, events: ['request.pending', 'request.approved', 'request.completed', 'request.cancelled'], description: 'all of a request' });
  });
  afterAll(async () => {
    signers?.forEach((s) => s.node.close());
    await coord?.destroy();
    await receiver?.down();
  });

  const createWebhook = async (body: unknown) => {
    const res = await coord.api('POST', '/v1/webhooks', body);
    expect(res.status).toBe(201);
    return CreateWebhookResponse.parse(res.body);
  };
  const createRequest = async (text: string) => {
    const res = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, payload: { kind: 'text', text } });
    expect(res.status).toBe(201);
    await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === res.body.id)));
    return res.body.id;
  };
  const view = async (id: string) => WebhookViewResponse.parse((await coord.api('GET', `/v1/webhooks/${id}`)).body);
  /** Verifies every delivery with the webhook's secret (throws on a bad one) and returns the payloads. */
  const verified = (all: readonly ReceivedWebhook[], secret: string): Payload[] =>
    all.map((r) => new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as Payload);
  const about = (all: readonly ReceivedWebhook[], requestId: string, secret = hook.secret) => verified(all, secret).filter((p) => p.data['requestId'] === requestId);

  it('refuses a URL that is not http(s), and never shows the secret after creation', async () => {
    for (const url of ['ftp://example.com/hook', 'javascript:alert(1)', 'file:///etc/passwd', 'not a url']) {
      const res = await coord.api('POST', '/v1/webhooks', { url, events: ['request.pending'] });
      expect(res.status, url).toBe(400);
      expect(ErrorResponse.parse(res.body).error.code).toBe('VALIDATION_FAILED');
    }
    expect((await coord.api('POST', '/v1/webhooks', { url: receiver.url, events: ['request.signed'] })).status).toBe(400);
    expect((await coord.api('POST', '/v1/webhooks', { url: receiver.url, events: [] })).status).toBe(400);
    expect(hook.secret).toMatch(/^whsec_/);
    const list = WebhookListResponse.parse((await coord.api('GET', '/v1/webhooks')).body);
    expect(list.map((w) => w.id)).toContain(hook.id);
    expect(JSON.stringify(list)).not.toContain(hook.secret);
    expect(JSON.stringify(await view(hook.id))).not.toContain(hook.secret);
    expect((await coord.api('GET', '/v1/webhooks/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('delivers pending, approved (once, at t approvals), completed for a signing session, each signed and verifiable', async () => {
    const id = await createRequest('webhook session');
    const [a, b] = [signers[0]!, signers[1]!];
    a.commit(id);
    b.commit(id);
    const packages = await Promise.all([a, b].map((s) => s.node.next('attempt.package', (f) => f.requestId === id)));
    for (const [i, s] of [a, b].entries()) s.node.send({ type: 'attempt.share', requestId: id, attemptId: packages[i]!.attemptId, share: s.share(packages[i]!) });
    await a.node.next('request.closed', (f) => f.requestId === id && f.status === 'completed');

    await receiver.waitFor((all) => about(all, id).some((p) => p.type === 'request.completed'));
    const events = about(receiver.received, id);
    expect(events.map((p) => p.type)).toEqual(['request.pending', 'request.approved', 'request.completed']);
    const request = (await coord.api<{ intentHash: string; signature: string }>('GET', `/v1/signing-requests/${id}`)).body;
    expect(events[0]!.data).toMatchObject({ requestId: id, keyId, status: 'pending', intentHash: request.intentHash });
    expect(events[1]!.data).toMatchObject({ approvals: 2, threshold: 2 });
    expect(events[2]!.data).toMatchObject({ status: 'completed', signature: request.signature, intentHash: request.intentHash });
    for (const p of events) expect(Date.parse(p.timestamp)).not.toBeNaN();
    const received = receiver.received.filter((r) => (JSON.parse(r.body) as Payload).data['requestId'] === id);
    for (const r of received) expect(r.headers).toMatchObject({ 'webhook-id': expect.stringMatching(/^msg_/) as unknown, 'content-type': 'application/json' });
  });

  it('a forged delivery is detectable: another secret, an altered body, an old timestamp all fail verification', () => {
    const r = receiver.received[0]!;
    const headers = r.headers as Record<string, string>;
    expect(() => new Webhook(newWebhookSecret()).verify(r.body, headers)).toThrow();
    expect(() => new Webhook(hook.secret).verify(r.body.replace('"request.', '"grant.'), headers)).toThrow();
    expect(() => new Webhook(hook.secret).verify(r.body, { ...headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600) })).toThrow();
    expect(() => new Webhook(hook.secret).verify(r.body, headers)).not.toThrow();
  });

  it('delivers request.cancelled with its status; a webhook not subscribed to an event gets nothing of it', async () => {
    const other = await WebhookReceiver.start();
    const completedOnly = await createWebhook({ url: other.url, events: ['request.completed'] });
    const id = await createRequest('webhook cancel');
    expect((await coord.api('POST', `/v1/signing-requests/${id}/cancel`, { reason: 'changed my mind' })).status).toBe(200);
    await receiver.waitFor((all) => about(all, id).some((p) => p.type === 'request.cancelled'));
    const cancelled = about(receiver.received, id).find((p) => p.type === 'request.cancelled')!;
    expect(cancelled.data).toMatchObject({ requestId: id, status: 'cancelled', failure: { code: 'REQUEST_CANCELLED' } });
    expect(about(receiver.received, id).map((p) => p.type)).toEqual(['request.pending', 'request.cancelled']);
    await new Promise((r) => setTimeout(r, 300));
    expect(other.received).toEqual([]);
    expect((await view(completedOnly.id)).deliveries).toEqual([]);
    await other.down();
  });

  it('retries a receiver that is down until it is back, with the same webhook-id; the log shows every attempt', async () => {
    const flaky = await WebhookReceiver.start();
    await flaky.down();
    const w = await createWebhook({ url: flaky.url, events: ['request.cancelled'] });
    const id = await createRequest('receiver down');
    expect((await coord.api('POST', `/v1/signing-requests/${id}/cancel`)).status).toBe(200);

    // Refused connections: attempts counted, the error kept, a retry scheduled.
    await expect.poll(async () => (await view(w.id)).deliveries[0]?.attempts ?? 0, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const failing = (await view(w.id)).deliveries[0]!;
    expect(failing).toMatchObject({ event: 'request.cancelled', status: 'pending', lastStatus: null, deliveredAt: null });
    expect(failing.lastError).toBeTruthy();
    expect(failing.lastAttemptAt).not.toBeNull();

    // Up again but answering 503: a non-2xx is retried too, and its status shows.
    flaky.status = 503;
    await flaky.up();
    await flaky.waitFor((all) => all.length >= 1);
    await expect.poll(async () => (await view(w.id)).deliveries[0]?.lastStatus, { timeout: 10_000 }).toBe(503);
    flaky.status = 200;
    await flaky.waitFor((all) => all.length >= 2);
    await expect.poll(async () => (await view(w.id)).deliveries[0]?.status, { timeout: 10_000 }).toBe('delivered');

    const done = (await view(w.id)).deliveries[0]!;
    expect(done).toMatchObject({ status: 'delivered', lastStatus: 200, lastError: null, nextRetryAt: null });
    expect(done.attempts).toBeGreaterThanOrEqual(failing.attempts + 2);
    expect(done.deliveredAt).not.toBeNull();
    const payloads = verified(flaky.received, w.secret);
    expect(payloads.every((p) => p.type === 'request.cancelled' && p.data['requestId'] === id)).toBe(true);
    expect(new Set(flaky.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([`msg_${done.id}`]));
    // Every attempt after the receiver came back reached it (the 503 and the 200).
    expect(flaky.received.length).toBeGreaterThanOrEqual(2);
    await flaky.down();
  });

  it('a disabled webhook gets nothing more; disabling again returns it unchanged', async () => {
    const r = await WebhookReceiver.start();
    const w = await createWebhook({ url: r.url, events: ['request.pending'] });
    const res = await coord.api('POST', `/v1/webhooks/${w.id}/disable`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: w.id, status: 'disabled' });
    expect((await coord.api('POST', `/v1/webhooks/${w.id}/disable`)).body).toMatchObject({ disabledAt: (res.body as { disabledAt: string }).disabledAt });
    await createRequest('after disable');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.received).toEqual([]);
    expect((await view(w.id)).deliveries).toEqual([]);
    await r.down();
  });
});
