import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '#crypto';
import type { GrantScope } from '#protocol';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { Agent, ALICE, DAI, EVE, transfer, USDC } from './support/grants.js';
import { scriptedSigners, type ScriptedSigner } from './support/scripted-signer.js';

type AuditEntry = { action: string; actor: { kind: string; id: string }; details: Record<string, unknown> };

const TRANSFERS: GrantScope = {
  kinds: ['eip712'],
  chainIds: [1],
  domains: [{ verifyingContract: USDC }],
  primaryTypes: ['Transfer'],
  fields: [{ path: 'to', in: [ALICE] }],
  perRequest: { amountField: 'value', max: '1000' },
  budgets: [{ asset: USDC, amountField: 'value', amount: '2500', periodMs: 86_400_000, start: Date.now() - 1000 }],
};

/**
 * Requests an agent makes under a grant (issue 10, section 2), through the real app and database: the
 * coordinator builds the intent, checks the grant, the agent's signature, freshness, the nonce and the
 * scope against the requests it counted, in that order, each refusal a typed 4xx that is audited; an
 * accepted request is proposed with the grant and the agent's authorization attached.
 */
describe('requests under a grant', () => {
  let coord: TestCoordinator;
  let signers: ScriptedSigner[];
  let keyId: string;
  const approvers = () => [signers[0]!, signers[1]!];
  const audit = async (action: string) => (await coord.api<{ entries: AuditEntry[] }>('GET', `/v1/audit?action=${action}&limit=500`)).body.entries;

  beforeAll(async () => {
    coord = await startTestCoordinator();
    ({ keyId, signers } = await scriptedSigners(coord, 2, 3));
  });
  afterAll(async () => {
    expect(signers.flatMap((s) => s.node.invalidFrames)).toEqual([]);
    signers?.forEach((s) => s.node.close());
    await coord?.destroy();
  });

  it('accepts a request inside the scope, proposes it with the grant attached, and the nodes can sign it', async () => {
    const agent = new Agent(coord);
    const grant = await agent.activeGrant(keyId, TRANSFERS, approvers());
    const res = await agent.request(transfer('700'), { chainId: 1 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id!;
    expect(res.body).toMatchObject({ status: expect.stringMatching(/pending|committing/) as unknown, proposer: `grant:${agent.grantId}` });
    const proposals = await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === id)));
    for (const p of proposals) {
      expect(p.grant).toMatchObject({ grantHash: grant.grantHash, grant: { id: agent.grantId }, authorization: { grantId: agent.grantId, intentHash: p.intentHash } });
    }
    const [a, b] = approvers();
    a!.commit(id);
    b!.commit(id);
    const packages = await Promise.all([a!, b!].map((s) => s.node.next('attempt.package', (f) => f.requestId === id)));
    for (const [i, s] of [a!, b!].entries()) s.node.send({ type: 'attempt.share', requestId: id, attemptId: packages[i]!.attemptId, share: s.share(packages[i]!) });
    await a!.node.next('request.closed', (f) => f.requestId === id && f.status === 'completed');

    const view = await agent.view();
    expect(view.requests).toEqual([expect.objectContaining({ id, status: 'completed' })]);
    expect(view.usage.requests.made).toBe(1);
    expect(view.usage.budgets[0]).toMatchObject({ spent: '700', remaining: '1800' });
    const accepted = (await audit('grant.request_accepted')).filter((e) => e.details.grantId === agent.grantId);
    expect(accepted).toEqual([expect.objectContaining({ actor: { kind: 'agent', id: `grant:${agent.grantId}` } })]);
  });

  it('refuses each request outside the scope with its code, audited, and counts none of them', async () => {
    const agent = new Agent(coord);
    await agent.activeGrant(keyId, TRANSFERS, approvers());
    const cases: [string, Parameters<Agent['request']>, number, string][] = [
      ['a kind not listed', [{ kind: 'text', text: 'hello' }], 403, 'KIND_NOT_ALLOWED'],
      ['a chain not listed', [transfer('1'), { chainId: 10 }], 403, 'CHAIN_NOT_ALLOWED'],
      ['another token contract', [transfer('1', { contract: DAI }), { chainId: 1 }], 403, 'DOMAIN_NOT_ALLOWED'],
      ['another primary type', [transfer('1', { primaryType: 'Permit' }), { chainId: 1 }], 403, 'TYPE_NOT_ALLOWED'],
      ['a recipient not allowed', [transfer('1', { to: EVE }), { chainId: 1 }], 403, 'FIELD_NOT_ALLOWED'],
      ['over the per-request limit', [transfer('1001'), { chainId: 1 }], 403, 'OVER_REQUEST_LIMIT'],
      ['signed by another key', [transfer('1'), { chainId: 1, secretKey: generateIdentity().secretKey }], 401, 'AGENT_SIGNATURE_INVALID'],
      ['a signature over another intent hash', [transfer('1'), { chainId: 1, fields: { intentHash: 'ee'.repeat(32) } }], 401, 'AGENT_SIGNATURE_INVALID'],
      ['a field changed after signing', [transfer('1'), { chainId: 1, tamper: (x) => ({ ...x, timestamp: x.timestamp + 1 }) }], 401, 'AGENT_SIGNATURE_INVALID'],
      ['a stale timestamp', [transfer('1'), { chainId: 1, fields: { timestamp: Date.now() - 120_000 } }], 401, 'AGENT_REQUEST_STALE'],
      ['a timestamp from the future', [transfer('1'), { chainId: 1, fields: { timestamp: Date.now() + 120_000 } }], 401, 'AGENT_REQUEST_STALE'],
    ];
    for (const [what, args, status, code] of cases) {
      const res = await agent.request(...args);
      expect([res.status, res.body.error?.code], `${what}: ${JSON.stringify(res.body)}`).toEqual([status, code]);
    }
    const refused = (await audit('grant.request_refused')).filter((e) => e.details.grantId === agent.grantId);
    expect(refused.map((e) => e.details.code)).toEqual(cases.map((c) => c[3]));
    expect((await agent.view()).usage.requests.made).toBe(0);
  });

  it('spends the budget across requests and refuses the one that would go over it (OVER_BUDGET)', async () => {
    const agent = new Agent(coord);
    await agent.activeGrant(keyId, TRANSFERS, approvers());
    for (const value of ['1000', '1000']) expect((await agent.request(transfer(value), { chainId: 1 })).status).toBe(201);
    const over = await agent.request(transfer('501'), { chainId: 1 });
    expect([over.status, over.body.error?.code]).toEqual([403, 'OVER_BUDGET']);
    expect((await agent.request(transfer('500'), { chainId: 1 })).status).toBe(201);
    const usage = (await agent.view()).usage;
    expect(usage.requests.made).toBe(3);
    expect(usage.budgets[0]).toMatchObject({ spent: '2500', remaining: '0' });
  });

  it('refuses a replayed nonce (AGENT_REQUEST_REPLAYED), even on another intent', async () => {
    const agent = new Agent(coord);
    await agent.activeGrant(keyId, { kinds: ['text'] }, approvers());
    const nonce = 'ab'.repeat(16);
    expect((await agent.request({ kind: 'text', text: 'first' }, { fields: { nonce } })).status).toBe(201);
    const again = await agent.request({ kind: 'text', text: 'second' }, { fields: { nonce } });
    expect([again.status, again.body.error?.code]).toEqual([409, 'AGENT_REQUEST_REPLAYED']);
  });

  it('counts requests against maxRequests (OVER_MAX_REQUESTS) and the rate limit (RATE_LIMITED)', async () => {
    const capped = new Agent(coord);
    await capped.activeGrant(keyId, { kinds: ['text'], maxRequests: 2 }, approvers());
    for (const text of ['one', 'two']) expect((await capped.request({ kind: 'text', text })).status).toBe(201);
    expect((await capped.request({ kind: 'text', text: 'three' })).body.error?.code).toBe('OVER_MAX_REQUESTS');
    expect((await capped.view()).usage.requests).toEqual({ made: 2, max: 2, remaining: 0 });

    const limited = new Agent(coord);
    await limited.activeGrant(keyId, { kinds: ['text'], rateLimit: { count: 1, intervalMs: 60_000 } }, approvers());
    expect((await limited.request({ kind: 'text', text: 'one' })).status).toBe(201);
    const second = await limited.request({ kind: 'text', text: 'two' });
    expect([second.status, second.body.error?.code]).toEqual([429, 'RATE_LIMITED']);
    expect((await limited.view()).usage.rate).toMatchObject({ count: 1, remaining: 0 });
  });

  it('lets only one of several concurrent requests take the last of a budget', async () => {
    const agent = new Agent(coord);
    await agent.activeGrant(keyId, { ...TRANSFERS, budgets: [{ ...TRANSFERS.budgets![0]!, amount: '1000' }] }, approvers());
    const results = await Promise.all(Array.from({ length: 5 }, () => agent.request(transfer('600'), { chainId: 1 })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status !== 201).map((r) => r.body.error?.code)).toEqual(Array(4).fill('OVER_BUDGET'));
    expect((await agent.view()).usage.budgets[0]).toMatchObject({ spent: '600' });
  });

  it('refuses requests before validAfter (GRANT_NOT_YET_VALID), at validUntil (GRANT_EXPIRED), and under an unknown grant', async () => {
    const early = new Agent(coord);
    await early.activeGrant(keyId, { kinds: ['text'] }, approvers(), { validAfter: Date.now() + 3_600_000, validUntil: Date.now() + 7_200_000 });
    expect((await early.request({ kind: 'text', text: 'too early' })).body.error?.code).toBe('GRANT_NOT_YET_VALID');

    const brief = new Agent(coord);
    const validUntil = Date.now() + 2_500;
    await brief.activeGrant(keyId, { kinds: ['text'] }, approvers(), { validUntil });
    expect((await brief.request({ kind: 'text', text: 'in time' })).status).toBe(201);
    await new Promise((r) => setTimeout(r, validUntil - Date.now() + 50));
    const late = await brief.request({ kind: 'text', text: 'too late' });
    expect([late.status, late.body.error?.code]).toEqual([403, 'GRANT_EXPIRED']);
    expect((await brief.view()).status).toBe('expired');
    const later = await brief.request({ kind: 'text', text: 'later still' });
    expect([later.status, later.body.error?.code]).toEqual([403, 'GRANT_EXPIRED']);
    // The row became expired once: one grant.expired (by the coordinator), one refusal per request.
    const expired = (await audit('grant.expired')).filter((e) => e.details.grantId === brief.grantId);
    expect(expired).toEqual([
      expect.objectContaining({ actor: { kind: 'system', id: 'coordinator' }, details: expect.objectContaining({ previousStatus: 'active', validUntil: new Date(validUntil).toISOString() }) as unknown }),
    ]);
    const refusedLate = (await audit('grant.request_refused')).filter((e) => e.details.grantId === brief.grantId);
    expect(refusedLate.map((e) => e.details.code)).toEqual(['GRANT_EXPIRED', 'GRANT_EXPIRED']);

    const ghost = new Agent(coord);
    ghost.grantId = '00000000-0000-4000-8000-00000000abcd';
    ghost.keyId = keyId;
    const res = await ghost.request({ kind: 'text', text: 'nobody' });
    expect([res.status, res.body.error?.code]).toEqual([404, 'GRANT_NOT_FOUND']);
  });
});
