import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateWebhookResponse, KeyResponse, NodeResponse, WebhookViewResponse } from '#api';
import { startCoordinator, type RunningCoordinator } from '#coordinator';
import { generateIdentity } from '#crypto';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { dealtKeyRegistration } from './support/keys.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/**
 * Two coordinator instances on one PostgreSQL (the embedded database admits one process): both delivery
 * workers poll the same outbox, fast, and every delivery reaches the receiver exactly once, in one attempt
 * (FOR UPDATE SKIP LOCKED and the attempt's lease).
 */
describe.runIf(process.env.DATABASE_URL)('webhooks: two coordinator instances deliver each event once', () => {
  let first: TestCoordinator;
  let second: RunningCoordinator;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    first = await startTestCoordinator({ webhookPollIntervalMs: 10, webhookRetryDelaysMs: [200, 200, 200] });
    second = await startCoordinator({ ...first.config, port: 0 });
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await second?.close();
    await first?.destroy();
    await receiver?.down();
  });

  it('sends each of 30 deliveries once though both workers race for them', async () => {
    const hook = CreateWebhookResponse.parse((await first.api('POST', '/v1/webhooks', { url: receiver.url, events: ['request.pending'] })).body);
    const nodeIds: string[] = [];
    for (let i = 0; i < 3; i++) nodeIds.push(NodeResponse.parse((await first.api('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: `twice-${i}` })).body).id);
    const keyId = KeyResponse.parse((await first.api('POST', '/v1/keys', dealtKeyRegistration('ed25519', 2, nodeIds).body)).body).id;
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await first.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, payload: { kind: 'text', text: `twice ${i}` } });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    await receiver.waitFor((all) => all.length >= 30);
    // Both workers keep polling a while: nothing more arrives.
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received).toHaveLength(30);
    const messageIds = receiver.received.map((r) => r.headers['webhook-id']);
    expect(new Set(messageIds).size).toBe(30);
    const view = WebhookViewResponse.parse((await first.api('GET', `/v1/webhooks/${hook.id}`)).body);
    expect(view.deliveries).toHaveLength(30);
    expect(view.deliveries.every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
    expect(new Set(view.deliveries.map((d) => d.payload.data['requestId']))).toEqual(new Set(ids));
  });
});
