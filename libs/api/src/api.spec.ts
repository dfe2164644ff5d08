import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES } from '#protocol';
import {
  AuditEntryResponse,
  AuditExportQuery,
  AuditQuery,
  CancelSigningRequestBody,
  CreateGrantBody,
  CreateSigningRequestBody,
  CreateWebhookBody,
  EnrollNodeBody,
  IdParam,
  ListSigningRequestsQuery,
  RegisterKeyBody,
  RevokeGrantBody,
  SigningRequestResponse,
  StartCeremonyBody,
} from './index.js';

const ID = '7bada169-4c1e-4f5a-9d8e-0123456789ab';
const UPPER = ID.toUpperCase();

describe('REST contract (libs/api)', () => {
  it('reads every id, in a path, a query or a body, as its lower-case spelling', () => {
    expect(IdParam.parse(UPPER)).toBe(ID);
    expect(ListSigningRequestsQuery.parse({ keyId: UPPER }).keyId).toBe(ID);
    expect(AuditQuery.parse({ requestId: UPPER, nodeId: UPPER }).requestId).toBe(ID);
    expect(CreateSigningRequestBody.parse({ keyId: UPPER, message: 'x' }).keyId).toBe(ID);
    expect(StartCeremonyBody.parse({ suite: 'ed25519', threshold: 2, nodeIds: [UPPER, ID] }).nodeIds).toEqual([ID, ID]);
    expect(IdParam.safeParse('not-a-uuid').success).toBe(false);
  });

  it('refuses free text a database cannot store, naming the field', () => {
    for (const [schema, body, field] of [
      [EnrollNodeBody, { publicKey: 'ab'.repeat(32), label: 'a\u0000b' }, 'label'],
      [CreateSigningRequestBody, { keyId: ID, message: 'x', description: 'x\uD800' }, 'description'],
      [CreateSigningRequestBody, { keyId: ID, message: 'x', idempotencyKey: 'k\u0000' }, 'idempotencyKey'],
    ] as const) {
      const parsed = schema.safeParse(body);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual([field]);
    }
  });

  it('refuses unstorable text in every query and body string that reaches the database', () => {
    const typedData = (message: Record<string, unknown>) => ({
      domain: { name: 'T', chainId: 1 },
      types: { M: [{ name: 'a', type: 'string' }] },
      primaryType: 'M',
      message,
    });
    const grant = (eq: string) => ({
      keyId: ID,
      grantee: { kind: 'ed25519', publicKey: 'ab'.repeat(32) },
      label: 'agent',
      validUntil: 1,
      scope: { kinds: ['eip712'], fields: [{ path: 'a', eq }] },
    });
    for (const bad of ['a\u0000b', 'a\uD800', '\uDC00b']) {
      expect(AuditQuery.safeParse({ actorId: bad }).success, JSON.stringify(bad)).toBe(false);
      expect(AuditExportQuery.safeParse({ actorId: bad }).success).toBe(false);
      expect(ListSigningRequestsQuery.safeParse({ proposer: bad }).success).toBe(false);
      expect(CancelSigningRequestBody.safeParse({ reason: bad }).success).toBe(false);
      expect(RevokeGrantBody.safeParse({ reason: bad }).success).toBe(false);
      expect(CreateWebhookBody.safeParse({ url: 'https://example.com/', events: ['request.completed'], description: bad }).success).toBe(false);
      expect(CreateSigningRequestBody.safeParse({ keyId: ID, payload: { kind: 'eip712', typedData: typedData({ a: bad }) } }).success).toBe(false);
      expect(CreateSigningRequestBody.safeParse({ keyId: ID, payload: { kind: 'eip712', typedData: typedData({ [bad]: 'x' }) } }).success).toBe(false);
      expect(CreateGrantBody.safeParse(grant(bad)).success).toBe(false);
    }
    // The same shapes with storable text (a surrogate pair is a whole character) are read.
    expect(AuditQuery.parse({ actorId: 'grant:\uD83D\uDE00' }).actorId).toBe('grant:\uD83D\uDE00');
    expect(CreateSigningRequestBody.safeParse({ keyId: ID, payload: { kind: 'eip712', typedData: typedData({ a: 'x' }) } }).success).toBe(true);
    expect(CreateGrantBody.safeParse(grant('x')).success).toBe(true);
  });

  it('reads a public key in any case and trims labels; refuses unknown fields and defaults the rest', () => {
    expect(EnrollNodeBody.parse({ publicKey: 'AB'.repeat(32), label: '  ops-1 ' })).toEqual({ publicKey: 'ab'.repeat(32), label: 'ops-1' });
    expect(EnrollNodeBody.safeParse({ publicKey: 'ab'.repeat(32), label: '   ' }).success).toBe(false);
    expect(CreateSigningRequestBody.parse({ keyId: ID, message: 'x' })).toEqual({ keyId: ID, payload: { kind: 'text', text: 'x' }, description: '', note: '' });
    expect(CreateSigningRequestBody.safeParse({ keyId: ID, message: 'x', nodeId: ID }).success).toBe(false);
    expect(RegisterKeyBody.safeParse({}).success).toBe(false);
    expect(ListSigningRequestsQuery.parse({ limit: '7' })).toEqual({ limit: 7, offset: 0 });
  });

  it('reads payloads in user spellings as canonical payloads', () => {
    const payloadOf = (payload: unknown) => CreateSigningRequestBody.parse({ keyId: ID, payload }).payload;
    expect(payloadOf({ kind: 'bytes', hex: '0xDEADbeef' })).toEqual({ kind: 'bytes', hex: 'deadbeef' });
    expect(payloadOf({ kind: 'bytes', hex: 'ABCD' })).toEqual({ kind: 'bytes', hex: 'abcd' });
    expect(payloadOf({ kind: 'digest', hex: `0X${'AB'.repeat(32)}`, hash: 'sha256' })).toEqual({ kind: 'digest', hex: 'ab'.repeat(32), hash: 'sha256' });
    expect(payloadOf({ kind: 'eip191', message: { hex: '0xC0FFEE' } })).toEqual({ kind: 'eip191', message: { hex: '0xc0ffee' } });
    expect(payloadOf({ kind: 'eip191', message: 'gm' })).toEqual({ kind: 'eip191', message: 'gm' });
    expect(payloadOf({ kind: 'text', text: 'héllo' })).toEqual({ kind: 'text', text: 'héllo' });
  });

  it('reads the short form (message + encoding) as a text or bytes payload', () => {
    const parse = (body: object) => CreateSigningRequestBody.safeParse({ keyId: ID, ...body });
    expect(parse({ message: 'héllo' }).data?.payload).toEqual({ kind: 'text', text: 'héllo' });
    expect(parse({ message: '0xDEADbeef', encoding: 'hex' }).data?.payload).toEqual({ kind: 'bytes', hex: 'deadbeef' });
    for (const [message, encoding] of [['abc', 'hex'], ['zz', 'hex'], ['', 'utf8'], ['0x', 'hex'], ['ab'.repeat(MAX_MESSAGE_BYTES + 1), 'hex'], ['é'.repeat(MAX_MESSAGE_BYTES / 2 + 1), 'utf8']] as const) {
      const parsed = parse({ message, encoding });
      expect(parsed.success, `${encoding} ${message.slice(0, 10)}`).toBe(false);
      expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['message']);
    }
  });

  it('wants exactly one of payload or message, and encoding only with message; refuses bad payloads', () => {
    const refused = (body: object) => CreateSigningRequestBody.safeParse({ keyId: ID, ...body }).error?.issues.map((i) => i.path.join('.'));
    expect(refused({})).toEqual(['payload']);
    expect(refused({ message: 'x', payload: { kind: 'text', text: 'x' } })).toEqual(['payload']);
    expect(refused({ payload: { kind: 'text', text: 'x' }, encoding: 'utf8' })).toEqual(['encoding']);
    expect(refused({ payload: { kind: 'bytes', hex: '' } })).toEqual(['payload.hex']);
    expect(refused({ payload: { kind: 'bytes', hex: 'abc' } })).toEqual(['payload.hex']);
    expect(refused({ payload: { kind: 'digest', hex: 'ab'.repeat(31), hash: 'sha256' } })).toEqual(['payload.hex']);
    expect(refused({ payload: { kind: 'digest', hex: 'ab'.repeat(32), hash: 'SHA 256' } })).toEqual(['payload.hash']);
    expect(refused({ payload: { kind: 'rot13', text: 'x' } })).toEqual(['payload.kind']);
    expect(refused({ payload: { kind: 'text', text: 'x', extra: 1 } })).toEqual(['payload']);
    expect(refused({ message: 'x', chainId: 0 })).toEqual(['chainId']);
    expect(refused({ message: 'x', sequence: -1 })).toEqual(['sequence']);
    expect(refused({ message: 'x', sequence: 1.5 })).toEqual(['sequence']);
  });

  it('describes a request view with messageText beside the hex', () => {
    const intent = {
      version: 1,
      keyId: ID,
      payload: { kind: 'text', text: 'hi' },
      chainId: null,
      sequence: null,
      deadline: Date.parse('2025-01-01T00:02:00.000Z'),
      proposer: 'admin',
      description: '',
      note: '',
    };
    const view = {
      id: ID,
      keyId: ID,
      suite: 'ed25519',
      status: 'pending',
      payload: intent.payload,
      intent,
      intentHash: 'cd'.repeat(32),
      digest: '6869',
      summary: 'text message (2 bytes)',
      summaryDetail: { headline: 'text message (2 bytes)', blind: false, fields: [{ label: 'text', value: 'hi' }], hashes: { intentHash: 'cd'.repeat(32), digest: '6869' } },
      chainId: null,
      sequence: null,
      note: '',
      proposer: 'admin',
      decisions: [{ nodeId: ID, label: 'n1', state: 'awaiting_operator', decision: null, awaiting: { rule: 'ask-big', reason: 'over 1000', since: '2025-01-01T00:00:01.000Z' } }],
      message: '6869',
      messageText: 'hi',
      messageEncoding: 'utf8',
      description: '',
      deadline: '2025-01-01T00:02:00.000Z',
      idempotencyKey: null,
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
      completedAt: null,
      attempts: [],
      failure: null,
      culprits: [],
      signature: null,
      groupPublicKey: 'ab'.repeat(32),
      evm: null,
    };
    expect(SigningRequestResponse.parse(view)).toEqual(view);
    const { messageText: _, ...withoutText } = view;
    expect(SigningRequestResponse.safeParse(withoutText).success).toBe(false);
  });

  it('reads audit entries of actions no longer written, but filters only on current ones', () => {
    const entry = {
      seq: 1,
      id: ID,
      occurredAt: '2025-01-01T00:00:00.000Z',
      actor: { kind: 'system', id: 'coordinator' },
      action: 'attempt.timed_out',
      outcome: 'failure',
      keyId: null,
      requestId: ID,
      attemptId: ID,
      nodeId: null,
      details: {},
      prevHash: '00'.repeat(32),
      hash: 'ab'.repeat(32),
    };
    expect(AuditEntryResponse.parse(entry)).toEqual(entry);
    expect(AuditQuery.safeParse({ action: 'attempt.timed_out' }).success).toBe(false);
    expect(AuditQuery.parse({ action: 'node.restored' }).action).toBe('node.restored');
  });
});
