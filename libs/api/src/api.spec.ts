import { describe, expect, it } from 'vitest';
import {
  AuditEntryResponse,
  AuditQuery,
  CreateSigningRequestBody,
  EnrollNodeBody,
  IdParam,
  ListSigningRequestsQuery,
  RegisterKeyBody,
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

  it('reads a public key in any case and trims labels; refuses unknown fields and defaults the rest', () => {
    expect(EnrollNodeBody.parse({ publicKey: 'AB'.repeat(32), label: '  ops-1 ' })).toEqual({ publicKey: 'ab'.repeat(32), label: 'ops-1' });
    expect(EnrollNodeBody.safeParse({ publicKey: 'ab'.repeat(32), label: '   ' }).success).toBe(false);
    expect(CreateSigningRequestBody.parse({ keyId: ID, message: 'x' })).toEqual({ keyId: ID, message: 'x', encoding: 'utf8', description: '' });
    expect(CreateSigningRequestBody.safeParse({ keyId: ID, message: 'x', nodeId: ID }).success).toBe(false);
    expect(RegisterKeyBody.safeParse({}).success).toBe(false);
    expect(ListSigningRequestsQuery.parse({ limit: '7' })).toEqual({ limit: 7, offset: 0 });
  });

  it('describes a request view with messageText beside the hex', () => {
    const view = {
      id: ID,
      keyId: ID,
      suite: 'ed25519',
      status: 'pending',
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
