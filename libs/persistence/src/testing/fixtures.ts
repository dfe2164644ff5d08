import { randomBytes, randomUUID } from 'node:crypto';
import type {
  AttemptRecord,
  AuditEntryInput,
  CeremonyRecord,
  CommitmentRecord,
  KeyRecord,
  NodeRecord,
  ShareRecord,
  SigningRequestRecord,
} from '#domain';
import { digestHex, intentHash } from '#intent';
import type { Intent } from '#protocol';

/** Record builders for the persistence specs: valid rows with random ids and hex, overridable. */

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
/** A whole-millisecond time, as the database returns it. */
export const at = (iso: string): Date => new Date(iso);

export function aNode(overrides: Partial<NodeRecord> = {}): NodeRecord {
  return {
    id: randomUUID(),
    label: 'signer',
    publicKey: hex(32),
    status: 'active',
    createdAt: at('2026-01-01T00:00:00.000Z'),
    revokedAt: null,
    lastSeenAt: null,
    policyHash: null,
    policyReportedAt: null,
    ...overrides,
  };
}

export function aKey(members: NodeRecord[], overrides: Partial<KeyRecord> = {}): KeyRecord {
  const identifiers = members.map((_, i) => (i + 1).toString(16).padStart(64, '0'));
  const verifyingShares = Object.fromEntries(identifiers.map((id) => [id, `02${hex(32)}`]));
  const groupPublicKey = `03${hex(32)}`;
  return {
    id: randomUUID(),
    suite: 'secp256k1',
    threshold: 2,
    maxSigners: members.length,
    groupPublicKey,
    publicPackage: {
      suite: 'secp256k1',
      threshold: 2,
      maxSigners: members.length,
      commitments: [groupPublicKey, `02${hex(32)}`],
      verifyingShares,
    },
    members: members.map((node, i) => ({
      nodeId: node.id,
      identifier: identifiers[i]!,
      verifyingShare: verifyingShares[identifiers[i]!]!,
    })),
    status: 'active',
    origin: 'dealer',
    createdAt: at('2026-01-02T00:00:00.000Z'),
    ...overrides,
  };
}

/**
 * A pending request whose intent (a bytes payload), intent hash and message agree; `intent` overrides
 * (a payload, a sequence) are merged into that intent and the hash and message follow.
 */
export function aRequest(
  key: KeyRecord,
  overrides: Omit<Partial<SigningRequestRecord>, 'intent'> & { intent?: Partial<Intent> } = {},
): SigningRequestRecord {
  const { intent: intentOverrides, ...rest } = overrides;
  const deadline = rest.deadline ?? at('2026-01-03T00:10:00.000Z');
  const intent: Intent = {
    version: 1,
    keyId: key.id,
    payload: { kind: 'bytes', hex: rest.message ?? hex(32) },
    chainId: null,
    sequence: null,
    deadline: deadline.getTime(),
    proposer: rest.proposer ?? 'admin',
    description: rest.description ?? 'pay the invoice',
    note: '',
    ...intentOverrides,
  };
  return {
    id: randomUUID(),
    keyId: key.id,
    intent,
    intentHash: intentHash(intent),
    proposer: intent.proposer,
    message: digestHex(intent.payload),
    messageEncoding: intent.payload.kind === 'text' ? 'utf8' : 'hex',
    description: intent.description,
    status: 'pending',
    deadline,
    idempotencyKey: null,
    requestHash: hex(32),
    createdBy: 'admin',
    createdAt: at('2026-01-03T00:00:00.000Z'),
    updatedAt: at('2026-01-03T00:00:00.000Z'),
    completedAt: null,
    signature: null,
    failureCode: null,
    failureReason: null,
    culprits: [],
    attemptCount: 0,
    blamelessRefusals: {},
    ...rest,
  };
}

export function anAttempt(request: SigningRequestRecord, overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    id: randomUUID(),
    requestId: request.id,
    seq: 1,
    status: 'signing',
    participants: [],
    commitments: [],
    deadline: at('2026-01-03T00:01:00.000Z'),
    startedAt: at('2026-01-03T00:00:30.000Z'),
    endedAt: null,
    failureReason: null,
    ...overrides,
  };
}

export function aCommitment(
  request: SigningRequestRecord,
  key: KeyRecord,
  member: number,
  overrides: Partial<CommitmentRecord> = {},
): CommitmentRecord {
  const m = key.members[member]!;
  return {
    id: randomUUID(),
    keyId: key.id,
    requestId: request.id,
    nodeId: m.nodeId,
    identifier: m.identifier,
    hiding: `02${hex(32)}`,
    binding: `03${hex(32)}`,
    status: 'ready',
    attemptId: null,
    receivedAt: at('2026-01-03T00:00:10.000Z'),
    ...overrides,
  };
}

export function aShare(attempt: AttemptRecord, key: KeyRecord, member: number, overrides: Partial<ShareRecord> = {}): ShareRecord {
  const m = key.members[member]!;
  return {
    attemptId: attempt.id,
    requestId: attempt.requestId,
    nodeId: m.nodeId,
    identifier: m.identifier,
    share: hex(32),
    valid: null,
    receivedAt: at('2026-01-03T00:00:40.000Z'),
    ...overrides,
  };
}

export function anAuditInput(overrides: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return {
    occurredAt: new Date(),
    actorKind: 'system',
    actorId: 'coordinator',
    action: 'request.created',
    outcome: 'success',
    details: { note: 'fixture', count: 1, nested: { z: true, a: [1, 'two', null] } },
    ...overrides,
  };
}

/** A ceremony in round 1 with two participants (identity keys are placeholders: nothing here verifies them). */
export function aCeremony(overrides: Partial<CeremonyRecord> = {}): CeremonyRecord {
  return {
    id: randomUUID(),
    keyId: randomUUID(),
    suite: 'secp256k1',
    threshold: 2,
    status: 'round1',
    participants: [1, 2].map((i) => ({ nodeId: randomUUID(), identifier: String(i).padStart(64, '0'), identityKey: 'ab'.repeat(32) })),
    round1: {},
    transcriptHash: null,
    failureCode: null,
    failureReason: null,
    culpritNodeId: null,
    culprits: [],
    deadline: at('2026-03-01T10:01:00.000Z'),
    roundTimeoutMs: 60_000,
    createdBy: 'admin-token',
    createdAt: at('2026-03-01T10:00:00.000Z'),
    updatedAt: at('2026-03-01T10:00:00.000Z'),
    completedAt: null,
    ...overrides,
  };
}
