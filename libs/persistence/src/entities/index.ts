import { AuditCheckpointEntity } from './audit-checkpoint.entity.js';
import { AuditEntryEntity } from './audit-entry.entity.js';
import { CeremonyEntity, CeremonyResultEntity, CeremonyRound2Entity } from './ceremony.entity.js';
import { CommitmentEntity } from './commitment.entity.js';
import { ConsoleSessionEntity } from './console-session.entity.js';
import { GrantDecisionEntity, GrantEntity, GrantNonceEntity } from './grant.entity.js';
import { KeyEntity, KeyMemberEntity } from './key.entity.js';
import { NodeEntity } from './node.entity.js';
import { NonceElementEntity } from './nonce-element.entity.js';
import { PrincipalEntity } from './principal.entity.js';
import { RequestDecisionEntity } from './request-decision.entity.js';
import { SignatureShareEntity } from './signature-share.entity.js';
import { SigningAttemptEntity } from './signing-attempt.entity.js';
import { SigningRequestEntity } from './signing-request.entity.js';
import { WebhookDeliveryEntity, WebhookEntity } from './webhook.entity.js';

export * from './audit-checkpoint.entity.js';
export * from './audit-entry.entity.js';
export * from './ceremony.entity.js';
export * from './commitment.entity.js';
export * from './console-session.entity.js';
export * from './grant.entity.js';
export * from './key.entity.js';
export * from './node.entity.js';
export * from './nonce-element.entity.js';
export * from './principal.entity.js';
export * from './request-decision.entity.js';
export * from './signature-share.entity.js';
export * from './signing-attempt.entity.js';
export * from './signing-request.entity.js';
export * from './webhook.entity.js';

/** Every table the repositories map; the schema itself comes from migrations/. */
export const persistenceEntities = [
  NodeEntity,
  KeyEntity,
  KeyMemberEntity,
  SigningRequestEntity,
  SigningAttemptEntity,
  CommitmentEntity,
  NonceElementEntity,
  SignatureShareEntity,
  AuditEntryEntity,
  AuditCheckpointEntity,
  CeremonyEntity,
  CeremonyRound2Entity,
  CeremonyResultEntity,
  PrincipalEntity,
  RequestDecisionEntity,
  GrantEntity,
  GrantDecisionEntity,
  GrantNonceEntity,
  WebhookEntity,
  WebhookDeliveryEntity,
  ConsoleSessionEntity,
];
