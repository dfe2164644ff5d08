import { privateKeyToAccount } from 'viem/accounts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CreateGrantRequestBody } from '#api';
import { takeIn, type IntakeContext } from '#domain';
import { agentRequestText, verifyAgentAuthorization } from '#intent';
import { GRANT_VERSION, Grant, type Grantee, type TypedData } from '#protocol';
import { TRANSFER } from '../../intent/src/testing/typed-data-samples.js';
import { AgentClient } from './agent-client.js';
import { AgentError } from './agent-error.js';
import { authorize, grantIntent, grantProposer } from './grant-request.js';
import { createSessionKey, ed25519SessionKey, eip191SessionKey } from './session-key.js';

const grantId = '5d1a7b3e-9c2f-4e8a-b6d4-0f1e2d3c4b5a';
const keyId = '7bada169-4c1e-4f5a-9d8e-0123456789ab';
const ctx = (now: Date): IntakeContext => ({ key: { threshold: 2, suite: 'secp256k1' }, now, defaultTtlMs: 60_000, maxTtlMs: 3_600_000 });

const grantFor = (grantee: Grantee): Grant =>
  Grant.parse({
    version: GRANT_VERSION,
    id: grantId,
    keyId,
    grantee,
    label: 'rebalancer',
    validAfter: 0,
    validUntil: Date.now() + 3_600_000,
    scope: { kinds: ['eip712'], chainIds: [8453] },
    proposer: 'admin',
  });

/** A fetch that stands in for the coordinator: it records the body and refuses with `code`. */
function refusingFetch(code: string, status = 422) {
  const bodies: unknown[] = [];
  const calls: { url: string; headers: Record<string, string> }[] = [];
  vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
    calls.push({ url, headers: init.headers as Record<string, string> });
    bodies.push(JSON.parse(init.body as string));
    return Promise.resolve(new Response(JSON.stringify({ error: { code, message: `refused: ${code}`, details: { grantId } } }), { status }));
  });
  return { bodies, calls };
}

afterEach(() => vi.unstubAllGlobals());

describe('grantIntent: the intent hash the coordinator will compute', () => {
  const typed: TypedData = TRANSFER;

  it('equals takeIn with the proposer grant:<id> and the same deadline, payload spellings included', () => {
    const now = new Date();
    const deadline = now.getTime() + 120_000;
    const cases = [
      { payload: { kind: 'eip712' as const, typedData: typed }, chainId: 8453, description: 'pay', note: 'weekly' },
      { payload: { kind: 'bytes' as const, hex: '0XDEADBEEF' }, sequence: 7 },
      { payload: { kind: 'eip191' as const, message: { hex: '0xABCD' } } },
      { payload: { kind: 'text' as const, text: 'hello' } },
    ];
    for (const input of cases) {
      const ours = grantIntent({ id: grantId.toUpperCase(), keyId }, input, deadline);
      // What the coordinator does with the body the client sends: parse it, then the intake rules.
      const body = CreateGrantRequestBody.parse({ ...input, deadline: new Date(deadline).toISOString(), authorization: fakeAuthorization() });
      const theirs = takeIn({ keyId, ...body, deadline: new Date(body.deadline!) }, grantProposer(grantId), ctx(now));
      expect(ours.intent).toEqual(theirs.intent);
      expect(ours.intentHash).toBe(theirs.intentHash);
      expect(ours.intent.proposer).toBe(`grant:${grantId}`);
    }
  });

  it('differs when any field the coordinator hashes differs (deadline, proposer, key)', () => {
    const input = { payload: { kind: 'text' as const, text: 'hello' } };
    const base = grantIntent({ id: grantId, keyId }, input, 1_900_000_000_000).intentHash;
    expect(grantIntent({ id: grantId, keyId }, input, 1_900_000_000_001).intentHash).not.toBe(base);
    expect(grantIntent({ id: keyId, keyId }, input, 1_900_000_000_000).intentHash).not.toBe(base);
    expect(grantIntent({ id: grantId, keyId: grantId }, input, 1_900_000_000_000).intentHash).not.toBe(base);
  });

  it('refuses what no coordinator would take, as VALIDATION_FAILED', () => {
    const refused = (() => {
      try {
        return grantIntent({ id: grantId, keyId }, { payload: { kind: 'bytes', hex: 'abc' } }, Date.now());
      } catch (e) {
        return e;
      }
    })();
    expect(refused).toBeInstanceOf(AgentError);
    expect(refused).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

function fakeAuthorization() {
  return { grantId, intentHash: 'aa'.repeat(32), nonce: 'bb'.repeat(16), timestamp: Date.now(), signature: 'cc'.repeat(64) };
}

describe('authorize: the session key signs agentRequestText', () => {
  it('an Ed25519 session key: verifies for its grant, not when anything is changed', async () => {
    const key = createSessionKey();
    expect(key.grantee).toEqual({ kind: 'ed25519', publicKey: key.publicKey });
    const auth = await authorize(key, { grantId: grantId.toUpperCase(), intentHash: 'ab'.repeat(32) });
    expect(auth.grantId).toBe(grantId);
    expect(auth.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(Math.abs(auth.timestamp - Date.now())).toBeLessThan(5_000);
    const grant = grantFor(key.grantee);
    expect(await verifyAgentAuthorization(grant, auth)).toBe(true);
    for (const tampered of [{ intentHash: 'ac'.repeat(32) }, { nonce: 'cd'.repeat(16) }, { timestamp: auth.timestamp + 1 }]) {
      expect(await verifyAgentAuthorization(grant, { ...auth, ...tampered })).toBe(false);
    }
    expect(await verifyAgentAuthorization(grantFor(createSessionKey().grantee), auth)).toBe(false);
    expect(await verifyAgentAuthorization({ ...grant, id: keyId }, auth)).toBe(false);
  });

  it('fresh nonces every time; a kept key pair signs the same as the one created', async () => {
    const key = createSessionKey();
    const again = ed25519SessionKey({ publicKey: key.publicKey, secretKey: key.secretKey });
    const fields = { grantId, intentHash: 'ab'.repeat(32), nonce: '01'.repeat(16), timestamp: 1_900_000_000_000 };
    expect((await authorize(again, fields)).signature).toBe((await authorize(key, fields)).signature);
    const nonces = new Set(await Promise.all(Array.from({ length: 20 }, async () => (await authorize(key, { grantId, intentHash: fields.intentHash })).nonce)));
    expect(nonces.size).toBe(20);
    expect(() => ed25519SessionKey({ publicKey: '00'.repeat(32), secretKey: key.secretKey })).toThrow(TypeError);
  });

  it('an EIP-191 signer (a viem account): a 65-byte personal_sign the grant address verifies', async () => {
    const account = privateKeyToAccount(`0x${'11'.repeat(32)}`);
    const key = eip191SessionKey(account);
    expect(key.grantee).toEqual({ kind: 'eip191', address: account.address });
    const auth = await authorize(key, { grantId, intentHash: 'ab'.repeat(32) });
    expect(auth.signature).toMatch(/^[0-9a-f]{130}$/);
    expect(`0x${auth.signature}`).toBe(await account.signMessage({ message: agentRequestText(auth) }));
    expect(await verifyAgentAuthorization(grantFor(key.grantee), auth)).toBe(true);
    const other = privateKeyToAccount(`0x${'22'.repeat(32)}`);
    expect(await verifyAgentAuthorization(grantFor({ kind: 'eip191', address: other.address }), auth)).toBe(false);
  });
});

describe('AgentClient.request: what it sends, and a refusal as a typed error', () => {
  it('sends an explicit deadline and an authorization over the hash takeIn computes, without a bearer token', async () => {
    const key = createSessionKey();
    const sent = refusingFetch('OVER_BUDGET');
    const client = new AgentClient({ coordinatorUrl: 'http://127.0.0.1:1', sessionKey: key });
    const payload = { kind: 'eip712' as const, typedData: TRANSFER };
    const error = await client.request({ grant: { id: grantId, keyId }, payload, chainId: 8453 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ code: 'OVER_BUDGET', refusal: 'OVER_BUDGET', status: 422, details: { grantId } });

    expect(sent.calls[0]!.url).toBe(`http://127.0.0.1:1/v1/grants/${grantId}/requests`);
    expect(sent.calls[0]!.headers.authorization).toBeUndefined();
    const body = CreateGrantRequestBody.parse(sent.bodies[0]);
    expect(body.deadline).toBeDefined();
    const deadline = Date.parse(body.deadline!);
    expect(deadline - Date.now()).toBeGreaterThan(200_000);
    const intake = takeIn({ keyId, ...body, deadline: new Date(deadline) }, `grant:${grantId}`, ctx(new Date()));
    expect(body.authorization.intentHash).toBe(intake.intentHash);
    expect(await verifyAgentAuthorization(grantFor(key.grantee), body.authorization)).toBe(true);
  });

  it('a code the coordinator sends that is no grant refusal has no refusal; no answer is UNREACHABLE', async () => {
    refusingFetch('VALIDATION_FAILED', 400);
    const client = new AgentClient({ coordinatorUrl: 'http://127.0.0.1:1', sessionKey: createSessionKey(), apiKey: 'k' });
    await expect(client.request({ grant: { id: grantId, keyId }, payload: { kind: 'text', text: 'x' } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      refusal: null,
    });
    vi.unstubAllGlobals();
    const unreachable = new AgentClient({ coordinatorUrl: 'http://127.0.0.1:1', sessionKey: createSessionKey(), apiKey: 'k' });
    await expect(unreachable.grant(grantId)).rejects.toMatchObject({ code: 'UNREACHABLE', status: 0 });
    const keyless = new AgentClient({ coordinatorUrl: 'http://127.0.0.1:1', sessionKey: createSessionKey() });
    await expect(keyless.grant(grantId)).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    expect(() => new AgentClient({ coordinatorUrl: 'ws://x', sessionKey: createSessionKey() })).toThrow(AgentError);
  });
});
