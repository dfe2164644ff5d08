import { Inject, Injectable } from '@nestjs/common';
import { checkScope, verifyAgentAuthorization } from '#intent';
import type { AgentAuthorization, ErrorCode } from '#protocol';
import { DOMAIN_SETTINGS, SYSTEM_ACTOR, type DomainSettings } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { STORE, type Repositories, type Store } from '../ports.js';
import type { AuditAction, AuditEntryInput, GrantRecord, SigningRequestRecord } from '../records.js';
import { createdDetails, newRequestRecord, takeIn, type CreateRequestInput, type Intake } from '../signing/intent-intake.js';
import { SigningService } from '../signing/signing.service.js';
import { requestPendingEvent } from '../webhooks/webhook-events.js';
import { AGENT_FRESHNESS_MS, countedRequests, grantUnusable } from './grant-rules.js';

export interface GrantRequestInput extends Omit<CreateRequestInput, 'keyId' | 'idempotencyKey'> {
  authorization: AgentAuthorization;
}

/** The proposer an intent under a grant names: the agent acts as the grant. */
export const grantProposer = (grantId: string): string => `grant:${grantId}`;

/**
 * Requests an agent makes under a session-key grant (`POST /v1/grants/:id/requests`). The intent is
 * built exactly as for any request (intent-intake.ts), with proposer `grant:<id>`; then, in one
 * transaction holding the grant's row lock (so that requests racing for the last of a budget are
 * serialized, across coordinator instances too), in this order: the grant is active and valid, the
 * agent signed this intent hash with the grantee's key, its timestamp is fresh, its nonce unused, and
 * the request is inside the scope given the requests already counted under the grant. A refusal is
 * audited (and committed) before it is thrown; an accepted request is stored with its nonce and
 * proposed with the grant attached, so that each node checks the agent's signature and the scope too.
 */
@Injectable()
export class GrantRequestsService {
  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(DOMAIN_SETTINGS) private readonly settings: DomainSettings,
    @Inject(SigningService) private readonly signing: SigningService,
  ) {}

  async create(grantId: string, input: GrantRequestInput): Promise<SigningRequestRecord> {
    const grant = await this.store.read.grants.findById(grantId);
    if (!grant) {
      await this.refuseOutside(grantId, null, 'GRANT_NOT_FOUND', `grant ${grantId} not found`);
      throw new DomainError('GRANT_NOT_FOUND', `grant ${grantId} not found`);
    }
    const key = await this.store.read.keys.findById(grant.keyId);
    if (!key) throw new DomainError('KEY_NOT_FOUND', `key ${grant.keyId} not found`);
    if (key.status !== 'active') throw new DomainError('KEY_RETIRED', `key ${grant.keyId} is retired`);
    const proposer = grantProposer(grant.id);
    let intake: Intake;
    try {
      intake = takeIn({ ...input, keyId: grant.keyId }, proposer, {
        key,
        now: new Date(),
        defaultTtlMs: this.settings.defaultRequestTtlMs,
        maxTtlMs: this.settings.maxRequestTtlMs,
      });
    } catch (e) {
      if (e instanceof DomainError) await this.refuseOutside(grant.id, grant.keyId, e.code, e.message);
      throw e;
    }
    // Checked outside the lock (it may await a signature recovery), and only trusted with the lock's checks below.
    const signed = input.authorization.intentHash === intake.intentHash && (await verifyAgentAuthorization(grant.grant, input.authorization));

    const outcome = await this.store.transaction(
      async (tx): Promise<{ request: SigningRequestRecord } | { refused: DomainError }> => {
        const locked = await tx.grants.findByIdForUpdate(grant.id);
        const now = new Date();
        const refusal = await refusalOf(tx, locked!, intake, input.authorization, signed, now.getTime());
        if (refusal) {
          const entries: AuditEntryInput[] = [];
          // The row becomes expired here, under its lock, once: a later request finds it expired already.
          if (refusal.code === 'GRANT_EXPIRED' && (locked!.status === 'active' || locked!.status === 'proposed')) {
            await tx.grants.update(locked!.id, { status: 'expired' });
            entries.push(grantExpiredEntry(locked!, now));
          }
          entries.push(agentEntry(locked!, 'grant.request_refused', 'failure', now, { code: refusal.code, reason: refusal.message, intentHash: intake.intentHash, nonce: input.authorization.nonce }));
          await tx.audit.appendAll(entries);
          return { refused: refusal };
        }
        const request = newRequestRecord(intake, { proposer, createdBy: proposer, idempotencyKey: null, grantId: grant.id }, now);
        await tx.requests.insert(request);
        await tx.grants.insertNonce({ grantId: grant.id, nonce: input.authorization.nonce, requestId: request.id, authorization: input.authorization, receivedAt: now });
        await tx.audit.appendAll([
          {
            ...agentEntry(locked!, 'request.created', 'success', now, createdDetails(intake, request.deadline)),
            requestId: request.id,
          },
          { ...agentEntry(locked!, 'grant.request_accepted', 'success', now, { intentHash: intake.intentHash, nonce: input.authorization.nonce, timestamp: input.authorization.timestamp }), requestId: request.id },
        ]);
        await tx.webhooks.enqueue([requestPendingEvent(request, now)], now);
        return { request };
      },
      { retries: 2 },
    );
    if ('refused' in outcome) throw outcome.refused;
    await this.signing.started(outcome.request);
    return outcome.request;
  }

  /** Audits a refusal that happened before the grant's lock was taken (no such grant, an intent that could not be built). */
  private async refuseOutside(grantId: string, keyId: string | null, code: ErrorCode, reason: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      await tx.audit.append({ occurredAt: new Date(), actorKind: 'agent', actorId: grantProposer(grantId), action: 'grant.request_refused', outcome: 'failure', keyId, details: { grantId, code, reason } });
    });
  }
}

/** The first rule the request breaks, in the documented order, or null. */
async function refusalOf(tx: Repositories, grant: GrantRecord, intake: Intake, auth: AgentAuthorization, signed: boolean, now: number): Promise<DomainError | null> {
  const unusable = grantUnusable(grant, now);
  if (unusable) return new DomainError(unusable.code, unusable.reason, { grantId: grant.id });
  if (!signed) {
    const why = auth.intentHash !== intake.intentHash ? `the agent signed intent hash ${auth.intentHash}, not this request's ${intake.intentHash}` : "the agent's signature does not verify under the grantee's key";
    return new DomainError('AGENT_SIGNATURE_INVALID', why, { intentHash: intake.intentHash });
  }
  if (Math.abs(now - auth.timestamp) > AGENT_FRESHNESS_MS) {
    return new DomainError('AGENT_REQUEST_STALE', `the agent's timestamp is more than ${AGENT_FRESHNESS_MS / 1000} s from the coordinator's clock`, { timestamp: auth.timestamp, now });
  }
  if (await tx.grants.findNonce(grant.id, auth.nonce)) return new DomainError('AGENT_REQUEST_REPLAYED', `nonce ${auth.nonce} was already used under grant ${grant.id}`, { nonce: auth.nonce });
  const verdict = checkScope(grant.grant, intake.intent, countedRequests(await tx.grants.listRequests(grant.id)), now);
  if (!verdict.ok) return new DomainError(verdict.code, verdict.reason, { grantId: grant.id });
  // The replay keys of any request (migration 0005), answered before the insert's constraint would abort the transaction.
  const same = await tx.requests.findByIntentHash(grant.keyId, intake.intentHash);
  if (same) return new DomainError('INTENT_ALREADY_SIGNED', `this intent was already proposed for key ${grant.keyId}: request ${same.id}`, { requestId: same.id });
  if (intake.intent.sequence !== null && (await tx.requests.findBySequence(grant.keyId, intake.intent.sequence))) {
    return new DomainError('SEQUENCE_USED', `sequence ${intake.intent.sequence} of key ${grant.keyId} is already used`, { sequence: intake.intent.sequence });
  }
  return null;
}

/** `grant.expired`: the coordinator (not the agent) recorded that the grant's `validUntil` passed. */
function grantExpiredEntry(grant: GrantRecord, at: Date): AuditEntryInput {
  return {
    occurredAt: at,
    actorKind: SYSTEM_ACTOR.kind,
    actorId: SYSTEM_ACTOR.id,
    action: 'grant.expired',
    outcome: 'success',
    keyId: grant.keyId,
    details: { grantId: grant.id, previousStatus: grant.status, validUntil: grant.validUntil.toISOString() },
  };
}

function agentEntry(grant: GrantRecord, action: AuditAction, outcome: 'success' | 'failure', at: Date, details: Record<string, unknown>): AuditEntryInput {
  return { occurredAt: at, actorKind: 'agent', actorId: grantProposer(grant.id), action, outcome, keyId: grant.keyId, details: { grantId: grant.id, ...details } };
}
