import type { EntityManager } from 'typeorm';
import type { Repositories } from '#domain';
import { TypeOrmAttemptRepository } from './attempt.repository.js';
import { TypeOrmAuditRepository } from './audit.repository.js';
import { TypeOrmCeremonyRepository } from './ceremony.repository.js';
import { TypeOrmClusterRepository } from './cluster.repository.js';
import { TypeOrmCommitmentRepository } from './commitment.repository.js';
import { TypeOrmConsoleSessionRepository } from './console-session.repository.js';
import { TypeOrmDecisionRepository } from './decision.repository.js';
import { TypeOrmGrantRepository } from './grant.repository.js';
import { TypeOrmKeyRepository } from './key.repository.js';
import { TypeOrmNodeRepository } from './node.repository.js';
import { TypeOrmPrincipalRepository } from './principal.repository.js';
import { TypeOrmRequestStateRepository } from './request-state.repository.js';
import { TypeOrmShareRepository } from './share.repository.js';
import { TypeOrmSigningRequestRepository } from './signing-request.repository.js';
import { TypeOrmWebhookRepository } from './webhook.repository.js';

export * from './attempt.repository.js';
export * from './audit.repository.js';
export * from './ceremony.repository.js';
export * from './cluster.repository.js';
export * from './commitment.repository.js';
export * from './console-session.repository.js';
export * from './decision.repository.js';
export * from './grant.repository.js';
export * from './key.repository.js';
export * from './node.repository.js';
export * from './principal.repository.js';
export * from './request-state.repository.js';
export * from './share.repository.js';
export * from './signing-request.repository.js';
export * from './webhook.repository.js';

/** Every repository, bound to one EntityManager (a transaction's, or the DataSource's default). */
export function repositoriesFor(manager: EntityManager): Repositories {
  return {
    nodes: new TypeOrmNodeRepository(manager),
    keys: new TypeOrmKeyRepository(manager),
    requests: new TypeOrmSigningRequestRepository(manager),
    attempts: new TypeOrmAttemptRepository(manager),
    commitments: new TypeOrmCommitmentRepository(manager),
    shares: new TypeOrmShareRepository(manager),
    audit: new TypeOrmAuditRepository(manager),
    ceremonies: new TypeOrmCeremonyRepository(manager),
    principals: new TypeOrmPrincipalRepository(manager),
    decisions: new TypeOrmDecisionRepository(manager),
    grants: new TypeOrmGrantRepository(manager),
    webhooks: new TypeOrmWebhookRepository(manager),
    consoleSessions: new TypeOrmConsoleSessionRepository(manager),
    cluster: new TypeOrmClusterRepository(manager),
    requestState: new TypeOrmRequestStateRepository(manager),
  };
}
