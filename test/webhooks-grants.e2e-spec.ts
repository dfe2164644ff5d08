import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { CreateWebhookResponse, WebhookViewResponse, type WebhookEventType } from '#api';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { Agent } from './support/grants.js';
import { scriptedSigners, type ScriptedSigner } from './support/scripted-signer.js';
import { WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';

type Payload = { type: WebhookEventType; timestamp: string; data: Record<string, unknown> };

const TEXT_SCOPE = { kinds: ['text' as const] };

/**
 * The grant events of webhooks (issue 11, section 3) end to end: a grant the key's nodes approve delivers
 * `grant.approved` once (at the threshold, not per approval), a revocation by an admin or by a node's
 * operator delivers `grant.revoked` with its reason, each signed as Standard Webhooks says; a webhook
 * subscribed to request events only receives neither.
 */
describe('webhooks: grant.approved and grant.revoked', () => {
  let coord: TestCoordinator;
  let signers: ScriptedSigner[];
  let keyId: string;
  let nodeIds: string[];
  let receiver: WebhookReceiver;
  let requestsOnly: WebhookReceiver;
  let hook: CreateWebhookResponse;
  let requestsHook: CreateWebhookResponse;

  beforeAll(async () => {
    coord = await startTestCoordinator({ webhookRetryDelaysMs: [300, 300, 300], webhookPollIntervalMs: 50, webhookTimeoutMs: 2_000 });
    ({ keyId, signers, nodeIds } = await scriptedSigners(coord, 2, 3));
    receiver = await WebhookReceiver.start();
    requestsOnly = await WebhookReceiver.start();
    hook = await createWebhook({ url: receiver.url, events: ['grant.approved', 'grant.revoked'], description: 'grants' });
    requestsHook = await createWebhook({
      url: requestsOnly.url,
      events: ['request.pending', 'request.approved', 'request.completed', 'request.failed', 'request.expired', 'request.rejected', 'request.cancelled'],
    });
  });
  afterAll(async () => {
    signers?.forEach((s) => s.node.close());
    await coord?.destroy();
    await receiver?.down();
    await requestsOnly?.down();
  });

  const createWebhook = async (body: unknown) => {
    const res = await coord.api('POST', '/v1/webhooks', body);
    expect(res.status).toBe(201);
    return CreateWebhookResponse.parse(res.body);
  };
  const view = async (id: string) => WebhookViewResponse.parse((await coord.api('GET', `/v1/webhooks/${id}`)).body);
  /** Every delivery verified with the webhook's secret (throws on a bad signature), about one grant. */
  const about = (all: readonly ReceivedWebhook[], grantId: string): Payload[] =>
    all.map((r) => new Webhook(hook.secret).verify(r.body, r.headers as Record<string, string>) as Payload).filter((p) => p.data['grantId'] === grantId);
  /** Proposes a grant and has the first two nodes (t = 2) and then the third approve it. */
  const approvedByAll = async (agent: Agent) => {
    const created = await agent.propose(keyId, TEXT_SCOPE);
    for (const s of signers) expect(await s.decideGrant(agent.grantId)).toMatchObject({ type: 'ack' });
    expect((await agent.view()).status).toBe('active');
    return created;
  };

  it('delivers grant.approved once when t nodes approved, signed, with the grant id, key, status and hash', async () => {
    const agent = new Agent(coord);
    const created = await approvedByAll(agent);
    await receiver.waitFor((all) => about(all, agent.grantId).length >= 1);
    // The third approval (after the threshold) sends nothing more: wait for the outbox to have polled a few times.
    await new Promise((r) => setTimeout(r, 400));
    const events = about(receiver.received, agent.grantId);
    expect(events.map((p) => p.type)).toEqual(['grant.approved']);
    expect(events[0]!.data).toEqual({ grantId: agent.grantId, keyId, status: 'active', grantHash: created.grantHash, label: 'test agent' });
    expect(Date.parse(events[0]!.timestamp)).not.toBeNaN();
    const delivered = receiver.received.find((r) => about([r], agent.grantId).length > 0)!;
    expect(delivered.headers).toMatchObject({ 'webhook-id': expect.stringMatching(/^msg_/) as unknown, 'content-type': 'application/json' });
    expect(() => new Webhook(hook.secret).verify(delivered.body.replace('"active"', '"revoked"'), delivered.headers as Record<string, string>)).toThrow();
  });

  it("delivers grant.revoked with the admin's reason, and again (once) for a node operator's kill switch", async () => {
    const agent = new Agent(coord);
    await approvedByAll(agent);
    const revoked = await coord.api('POST', `/v1/grants/${agent.grantId}/revoke`, { reason: 'agent key leaked' });
    expect(revoked.status).toBe(200);
    await receiver.waitFor((all) => about(all, agent.grantId).some((p) => p.type === 'grant.revoked'));
    const events = about(receiver.received, agent.grantId);
    expect(events.map((p) => p.type)).toEqual(['grant.approved', 'grant.revoked']);
    expect(events[1]!.data).toMatchObject({ grantId: agent.grantId, keyId, status: 'revoked', reason: 'agent key leaked', revokedBy: 'admin' });
    // Revoking a revoked grant changes nothing and sends nothing.
    expect((await coord.api('POST', `/v1/grants/${agent.grantId}/revoke`, { reason: 'again' })).status).toBe(200);

    const other = new Agent(coord);
    await approvedByAll(other);
    expect(await signers[2]!.revokeGrant(other.grantId, 'operator pulled the plug')).toMatchObject({ type: 'ack' });
    await receiver.waitFor((all) => about(all, other.grantId).some((p) => p.type === 'grant.revoked'));
    const byNode = about(receiver.received, other.grantId).find((p) => p.type === 'grant.revoked')!;
    expect(byNode.data).toMatchObject({ grantId: other.grantId, status: 'revoked', reason: 'operator pulled the plug', revokedBy: `node:${nodeIds[2]}` });

    await new Promise((r) => setTimeout(r, 400));
    expect(about(receiver.received, agent.grantId).map((p) => p.type)).toEqual(['grant.approved', 'grant.revoked']);
    const revocations = async () => (await view(hook.id)).deliveries.filter((d) => d.event === 'grant.revoked');
    await expect.poll(async () => (await revocations()).map((d) => [d.status, d.lastStatus]), { timeout: 10_000 }).toEqual([
      ['delivered', 204],
      ['delivered', 204],
    ]);
  });

  it('a webhook subscribed to request events only receives those, and no grant event', async () => {
    const agent = new Agent(coord);
    await approvedByAll(agent);
    expect((await coord.api('POST', `/v1/grants/${agent.grantId}/revoke`, { reason: 'done' })).status).toBe(200);
    await receiver.waitFor((all) => about(all, agent.grantId).some((p) => p.type === 'grant.revoked'));
    // A request event after the grant events: once it arrives, the grant events would have too.
    const created = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, payload: { kind: 'text', text: 'after the grants' } });
    expect(created.status).toBe(201);
    await requestsOnly.waitFor((all) => all.length >= 1);
    await new Promise((r) => setTimeout(r, 400));
    const types = requestsOnly.received.map((r) => (new Webhook(requestsHook.secret).verify(r.body, r.headers as Record<string, string>) as Payload).type);
    expect(types).toEqual(['request.pending']);
    expect((await view(requestsHook.id)).deliveries.map((d) => d.event)).toEqual(['request.pending']);
  });
});
