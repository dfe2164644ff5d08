import { createHash } from 'node:crypto';
import { TypedDataEncoder, hashMessage } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorResponse, KeyResponse, NodeResponse, SigningRequestListResponse, SigningRequestResponse } from '#api';
import { generateIdentity } from '#crypto';
import { intentHash } from '#intent';
import type { TypedData } from '#protocol';
import { PERMIT, TRANSFER } from '../libs/intent/src/testing/typed-data-samples.js';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { dealtKeyRegistration } from './support/keys.js';

/**
 * Signing intents through the REST API: every payload kind's digest as ethers (independent of the
 * product's viem) computes it, the short form, the view's fields, and every refusal of the intake.
 */

const strip = (h: string) => h.replace(/^0x/, '');
const refusal = (res: { status: number; body: unknown }) => [res.status, ErrorResponse.parse(res.body).error] as const;
const sortedJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );

const ethers712 = (td: TypedData) => strip(TypedDataEncoder.hash(td.domain, td.types, td.message));

describe('REST API: signing intents', () => {
  let coord: TestCoordinator;
  let keyId: string;
  let memberIds: string[];
  /** A deadline a few minutes out, unique per call (so that otherwise equal bodies are distinct intents). */
  let tick = 0;
  const deadline = () => new Date(Date.now() + 600_000 + tick++).toISOString();

  beforeAll(async () => {
    coord = await startTestCoordinator();
    memberIds = [];
    for (let i = 0; i < 3; i++) {
      memberIds.push(NodeResponse.parse((await coord.api('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: `ops-${i}` })).body).id);
    }
    keyId = KeyResponse.parse((await coord.api('POST', '/v1/keys', dealtKeyRegistration('secp256k1', 2, memberIds).body)).body).id;
  });
  afterAll(async () => coord?.destroy());

  const create = async (body: Record<string, unknown>) => {
    const res = await coord.api('POST', '/v1/signing-requests', { keyId, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return SigningRequestResponse.parse(res.body);
  };
  const post = (body: Record<string, unknown>, headers?: Record<string, string>) => coord.api('POST', '/v1/signing-requests', { keyId, ...body }, headers);

  it.each([
    ['text', { payload: { kind: 'text', text: 'pay 🍕 to alice' } }, Buffer.from('pay 🍕 to alice').toString('hex'), { kind: 'text', text: 'pay 🍕 to alice' }],
    ['bytes (0x, upper case)', { payload: { kind: 'bytes', hex: '0xDEADBEEF' } }, 'deadbeef', { kind: 'bytes', hex: 'deadbeef' }],
    ['eip191 text', { payload: { kind: 'eip191', message: 'I approve invoice 42' } }, strip(hashMessage('I approve invoice 42')), null],
    ['eip191 raw bytes', { payload: { kind: 'eip191', message: { hex: '0x00FF10' } } }, strip(hashMessage(Uint8Array.from([0, 255, 16]))), { kind: 'eip191', message: { hex: '0x00ff10' } }],
    ['eip712 ERC-20 transfer', { payload: { kind: 'eip712', typedData: TRANSFER }, chainId: 8453 }, ethers712(TRANSFER), null],
    ['eip712 Permit', { payload: { kind: 'eip712', typedData: PERMIT }, chainId: 1 }, ethers712(PERMIT), null],
    ['digest (0x)', { payload: { kind: 'digest', hex: `0x${'AB'.repeat(32)}`, hash: 'bitcoin-sighash' } }, 'ab'.repeat(32), { kind: 'digest', hex: 'ab'.repeat(32), hash: 'bitcoin-sighash' }],
  ] as const)('%s: the digest is the independent library’s, the intent hash recomputes', async (_what, body, expectedDigest, canonical) => {
    const created = await create({ ...body, deadline: deadline() });
    const view = SigningRequestResponse.parse((await coord.api('GET', `/v1/signing-requests/${created.id}`)).body);
    expect(view.digest).toBe(expectedDigest);
    expect(view.message).toBe(expectedDigest);
    expect(view.payload).toEqual(canonical ?? body.payload);
    expect(view.intent.payload).toEqual(view.payload);
    expect(view.intentHash).toBe(intentHash(view.intent));
    expect(view.intentHash).toBe(createHash('sha256').update(`roundtable/intent/v1\n${sortedJson(view.intent)}`).digest('hex'));
    expect(view.summaryDetail.hashes).toMatchObject({ intentHash: view.intentHash, digest: expectedDigest });
  });

  it('shows the view’s new fields: intent, summary, hashes, chain, sequence, note, proposer and a decision slot per member', async () => {
    const due = deadline();
    const created = await create({ payload: { kind: 'eip712', typedData: TRANSFER }, chainId: 8453, sequence: 1, note: 'invoice 114', description: 'pay the auditors', deadline: due });
    expect(created).toMatchObject({ chainId: 8453, sequence: 1, note: 'invoice 114', proposer: 'admin', description: 'pay the auditors', messageEncoding: 'hex', messageText: null });
    expect(created.intent).toEqual({
      version: 1,
      keyId,
      payload: { kind: 'eip712', typedData: TRANSFER },
      chainId: 8453,
      sequence: 1,
      deadline: Date.parse(due),
      proposer: 'admin',
      description: 'pay the auditors',
      note: 'invoice 114',
    });
    expect(created.summary).toBe('EIP-712 Transfer for Treasury at 0x3333333333333333333333333333333333333333 on chain 8453: pay the auditors');
    const { summaryDetail: d } = created;
    expect(d.blind).toBe(false);
    expect(d.fields).toEqual(expect.arrayContaining([{ label: 'message.amount', value: '2500000000000000000000' }, { label: 'chain id', value: '8453' }, { label: 'sequence', value: '1' }]));
    expect(d.hashes).toEqual({
      intentHash: created.intentHash,
      digest: ethers712(TRANSFER),
      domainSeparator: strip(TypedDataEncoder.hashDomain(TRANSFER.domain)),
      structHash: strip(TypedDataEncoder.from(TRANSFER.types).hash(TRANSFER.message)),
    });
    expect(created.decisions.map((x) => [x.nodeId, x.label, x.decision, x.awaiting])).toEqual(memberIds.map((id, i) => [id, `ops-${i}`, null, null]));
    expect(created.decisions.every((x) => ['pending', 'proposed'].includes(x.state))).toBe(true);

    const blind = await create({ payload: { kind: 'digest', hex: 'cd'.repeat(32), hash: 'sha256' }, deadline: deadline() });
    expect(blind.summaryDetail.blind).toBe(true);
    expect(blind.summary).toMatch(/^BLIND/);
  });

  it('reads the short form (message + encoding) as a text or bytes payload', async () => {
    const text = await create({ message: 'short and sweet', deadline: deadline() });
    expect(text).toMatchObject({ payload: { kind: 'text', text: 'short and sweet' }, messageEncoding: 'utf8', messageText: 'short and sweet' });
    const bytes = await create({ message: '0xC0FFEE', encoding: 'hex', deadline: deadline() });
    expect(bytes).toMatchObject({ payload: { kind: 'bytes', hex: 'c0ffee' }, digest: 'c0ffee', messageEncoding: 'hex', messageText: null });
  });

  it.each([
    ['a deadline in the past', { message: 'late', deadline: new Date(Date.now() - 1000).toISOString() }, 400, 'DEADLINE_PASSED'],
    ['eip712 without a chain id', { payload: { kind: 'eip712', typedData: TRANSFER } }, 400, 'CHAIN_ID_REQUIRED'],
    ['eip712 with a chain id other than its domain’s', { payload: { kind: 'eip712', typedData: TRANSFER }, chainId: 1 }, 400, 'CHAIN_ID_MISMATCH'],
    ['typed data with an undefined type', { payload: { kind: 'eip712', typedData: { ...TRANSFER, primaryType: 'Payment' } }, chainId: 8453 }, 400, 'INVALID_PAYLOAD'],
    ['typed data with a fractional amount', { payload: { kind: 'eip712', typedData: { ...TRANSFER, message: { ...TRANSFER.message, amount: '2.5' } } }, chainId: 8453 }, 400, 'INVALID_PAYLOAD'],
    ['typed data with a missing field', { payload: { kind: 'eip712', typedData: { ...TRANSFER, message: { token: TRANSFER.message.token!, to: TRANSFER.message.to! } } }, chainId: 8453 }, 400, 'INVALID_PAYLOAD'],
    ['both payload and message', { payload: { kind: 'text', text: 'a' }, message: 'a' }, 400, 'VALIDATION_FAILED'],
    ['neither payload nor message', { description: 'nothing' }, 400, 'VALIDATION_FAILED'],
    ['a digest that is not 32 bytes', { payload: { kind: 'digest', hex: 'ab'.repeat(20), hash: 'sha256' } }, 400, 'VALIDATION_FAILED'],
  ] as const)('refuses %s', async (_what, body, status, code) => {
    const [s, error] = refusal(await post(body));
    expect([s, error.code]).toEqual([status, code]);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('signs an intent at most once per key: the same intent again is INTENT_ALREADY_SIGNED naming the request', async () => {
    const body = { payload: { kind: 'text', text: 'once only' }, deadline: deadline() };
    const first = await create(body);
    const [status, error] = refusal(await post(body));
    expect([status, error.code]).toEqual([409, 'INTENT_ALREADY_SIGNED']);
    expect(error.message).toContain(first.id);
    expect(error.details).toMatchObject({ requestId: first.id, intentHash: first.intentHash });
    // The short form of the same text is the same intent; a different note is a different one.
    expect(refusal(await post({ message: 'once only', deadline: body.deadline }))[1].code).toBe('INTENT_ALREADY_SIGNED');
    await create({ ...body, note: 'again, on purpose' });
  });

  it('uses a sequence at most once per key: SEQUENCE_USED naming the request', async () => {
    const first = await create({ message: 'seq 7', sequence: 7, deadline: deadline() });
    const [status, error] = refusal(await post({ message: 'another', sequence: 7 }));
    expect([status, error.code]).toEqual([409, 'SEQUENCE_USED']);
    expect(error.details).toMatchObject({ requestId: first.id, sequence: 7 });
    expect((await create({ message: 'another', sequence: 8 })).sequence).toBe(8);
  });

  it('returns the existing request for an exact retry with the same idempotency key (200), with or without a deadline', async () => {
    for (const body of [
      { payload: { kind: 'text', text: 'retry me' }, idempotencyKey: 'order-1' },
      { payload: { kind: 'eip712', typedData: PERMIT }, chainId: 1, sequence: 99, deadline: deadline(), idempotencyKey: 'order-2' },
    ]) {
      const first = await post(body);
      const again = await post(body);
      expect([first.status, again.status]).toEqual([201, 200]);
      expect(SigningRequestResponse.parse(again.body).id).toBe(SigningRequestResponse.parse(first.body).id);
      expect(refusal(await post({ ...body, note: 'changed' }))[1].code).toBe('IDEMPOTENCY_CONFLICT');
    }
  });

  it('lists by proposer', async () => {
    const mine = SigningRequestListResponse.parse((await coord.api('GET', `/v1/signing-requests?proposer=admin&keyId=${keyId}&limit=500`)).body);
    expect(mine.length).toBeGreaterThan(5);
    expect(mine.every((r) => r.proposer === 'admin')).toBe(true);
    expect((await coord.api('GET', '/v1/signing-requests?proposer=principal:nobody')).body).toEqual([]);
  });

  describe('racing POSTs: the database decides, one wins', () => {
    const race = async (bodies: Record<string, unknown>[]) => {
      const answers = await Promise.all(bodies.map((b) => post(b)));
      return {
        created: answers.filter((a) => a.status === 201).map((a) => SigningRequestResponse.parse(a.body)),
        others: answers.filter((a) => a.status !== 201).map((a) => [a.status, a.status === 200 ? 'REPLAYED' : ErrorResponse.parse(a.body).error.code]),
        answers,
      };
    };

    it('the same intent twice at once: one 201, one INTENT_ALREADY_SIGNED', async () => {
      const body = { payload: { kind: 'bytes', hex: 'aa'.repeat(8) }, deadline: deadline() };
      const { created, others } = await race([body, body]);
      expect(created).toHaveLength(1);
      expect(others).toEqual([[409, 'INTENT_ALREADY_SIGNED']]);
    });

    it('one sequence in two intents at once: one 201, one SEQUENCE_USED', async () => {
      const { created, others } = await race([
        { message: 'left', sequence: 500, deadline: deadline() },
        { message: 'right', sequence: 500, deadline: deadline() },
      ]);
      expect(created).toHaveLength(1);
      expect(others).toEqual([[409, 'SEQUENCE_USED']]);
    });

    it('one exact retry racing its original: one 201, one 200 with the same request', async () => {
      const body = { message: 'retried at once', sequence: 600, deadline: deadline(), idempotencyKey: 'race-1' };
      const { created, others, answers } = await race([body, body, body]);
      expect(created).toHaveLength(1);
      expect(others).toEqual([
        [200, 'REPLAYED'],
        [200, 'REPLAYED'],
      ]);
      expect(new Set(answers.map((a) => SigningRequestResponse.parse(a.body).id))).toEqual(new Set([created[0]!.id]));
    });
  });
});
