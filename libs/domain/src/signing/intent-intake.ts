import { randomUUID } from 'node:crypto';
import { bytesToHex, canonicalJson, getSuite, sha256Hex, type SuiteId } from '#crypto';
import { IntentError, intentHash as hashIntent, signedBytes } from '#intent';
import { INTENT_VERSION, Intent, packageFits, type Payload } from '#protocol';
import type { Actor } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import type { SigningRequestRecord } from '../records.js';

/** A proposal as the REST API hands it over: the payload already in its canonical spelling. */
export interface CreateRequestInput {
  keyId: string;
  payload: Payload;
  description?: string;
  note?: string;
  chainId?: number;
  sequence?: number;
  deadline?: Date;
  idempotencyKey?: string;
}

/** What the intake rules derive from a proposal. */
export interface Intake {
  intent: Intent;
  intentHash: string;
  /** The bytes FROST signs, hex (`signedBytes` of the payload). */
  digest: string;
  /**
   * SHA-256 of the proposal as given (not of the intent: a default deadline differs on every retry), to
   * tell a retry with the same idempotency key from a conflicting one.
   */
  requestHash: string;
  /** The legacy short form's encoding: utf8 for text payloads, hex for every other kind. */
  messageEncoding: 'hex' | 'utf8';
}

/** A new request's record from its intake: pending, nothing signed, no attempt; `extra` names who and how. */
export function newRequestRecord(
  intake: Intake,
  extra: Pick<SigningRequestRecord, 'proposer' | 'createdBy' | 'idempotencyKey'> & Partial<Pick<SigningRequestRecord, 'grantId'>>,
  now: Date,
): SigningRequestRecord {
  const { intent } = intake;
  return {
    id: randomUUID(),
    keyId: intent.keyId,
    intent,
    intentHash: intake.intentHash,
    message: intake.digest,
    messageEncoding: intake.messageEncoding,
    description: intent.description,
    status: 'pending',
    deadline: new Date(intent.deadline),
    requestHash: intake.requestHash,
    createdAt: now,
    updatedAt: now,
    completedAt: null,
    signature: null,
    failureCode: null,
    failureReason: null,
    culprits: [],
    attemptCount: 0,
    blamelessRefusals: {},
    ...extra,
  };
}

/** The details of a `request.created` audit entry: the intent's fields and hashes (never more than it holds). */
export function createdDetails(intake: Intake, deadline: Date): Record<string, unknown> {
  const { intent } = intake;
  return {
    intentHash: intake.intentHash,
    payloadKind: intent.payload.kind,
    digest: intake.digest,
    messageBytes: intake.digest.length / 2,
    chainId: intent.chainId,
    sequence: intent.sequence,
    proposer: intent.proposer,
    description: intent.description,
    note: intent.note,
    deadline: deadline.toISOString(),
    requestHash: intake.requestHash,
  };
}

export interface IntakeContext {
  key: { threshold: number; suite: SuiteId };
  now: Date;
  defaultTtlMs: number;
  maxTtlMs: number;
}

/** Who an intent names as its proposer: `principal:<id>`, or `admin` for the bootstrap token. */
export const proposerOf = (actor: Actor): string => (actor.kind === 'principal' ? `principal:${actor.id}` : 'admin');

/**
 * The intake rules, in a fixed order, as a pure function: the payload must have signed bytes
 * (INVALID_PAYLOAD), an eip712 payload needs a chain id (CHAIN_ID_REQUIRED) equal to its domain's
 * (CHAIN_ID_MISMATCH), the bytes must fit a signing package and the intent a frame (VALIDATION_FAILED),
 * the deadline must not have passed (DEADLINE_PASSED), be at least a second away and within the
 * maximum time to live (VALIDATION_FAILED).
 */
export function takeIn(input: CreateRequestInput, proposer: string, ctx: IntakeContext): Intake {
  const { payload } = input;
  const chainId = input.chainId ?? null;
  if (payload.kind === 'eip712') {
    const domainChain = payload.typedData.domain.chainId;
    if (chainId === null) {
      throw new DomainError('CHAIN_ID_REQUIRED', 'an eip712 request must carry a chainId', domainChain !== undefined ? { domainChainId: domainChain } : {});
    }
    if (domainChain !== undefined && domainChain !== chainId) {
      throw new DomainError('CHAIN_ID_MISMATCH', `chainId ${chainId} differs from the typed data's domain.chainId ${domainChain}`, {
        chainId,
        domainChainId: domainChain,
      });
    }
  }
  let digest: string;
  try {
    digest = bytesToHex(signedBytes(payload));
  } catch (e) {
    if (e instanceof IntentError) throw new DomainError('INVALID_PAYLOAD', e.message);
    throw e;
  }
  if (!packageFits(digest.length / 2, ctx.key.threshold, getSuite(ctx.key.suite))) {
    throw new DomainError('VALIDATION_FAILED', `message too large for a signing package of ${ctx.key.threshold} signers`);
  }

  const now = ctx.now.getTime();
  const deadline = input.deadline?.getTime() ?? now + ctx.defaultTtlMs;
  if (deadline <= now) throw new DomainError('DEADLINE_PASSED', `the deadline ${new Date(deadline).toISOString()} has passed`);
  if (deadline <= now + 1000) throw new DomainError('VALIDATION_FAILED', 'deadline must be at least one second in the future');
  if (deadline > now + ctx.maxTtlMs) throw new DomainError('VALIDATION_FAILED', `deadline must be within ${ctx.maxTtlMs} ms`);

  const parsed = Intent.safeParse({
    version: INTENT_VERSION,
    keyId: input.keyId,
    payload,
    chainId,
    sequence: input.sequence ?? null,
    deadline,
    proposer,
    description: input.description ?? '',
    note: input.note ?? '',
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new DomainError('VALIDATION_FAILED', issues.map((i) => `${i.path || '(intent)'}: ${i.message}`).join('; '), { issues });
  }
  const intent = parsed.data;
  let hash: string;
  try {
    hash = hashIntent(intent);
  } catch (e) {
    if (e instanceof IntentError) throw new DomainError('VALIDATION_FAILED', e.message);
    throw e;
  }
  const requestHash = sha256Hex(
    canonicalJson({
      keyId: intent.keyId,
      payload: intent.payload,
      chainId: intent.chainId,
      sequence: intent.sequence,
      deadline: input.deadline?.getTime() ?? null,
      proposer,
      description: intent.description,
      note: intent.note,
    }),
  );
  return { intent, intentHash: hash, digest, requestHash, messageEncoding: payload.kind === 'text' ? 'utf8' : 'hex' };
}
