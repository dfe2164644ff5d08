import { Global, Inject, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import {
  AUDIT_LOG_KEY,
  AuditService,
  CeremonyRelay,
  CeremonyService,
  CeremonyTransitions,
  ConsoleSessionsService,
  DOMAIN_SETTINGS,
  GrantRequestsService,
  GrantsService,
  KeysService,
  NODE_LINK,
  NodeAuthService,
  NodesService,
  PrincipalsService,
  SigningRequestsService,
  SigningService,
  TransparencyLogService,
  WitnessService,
  WEBHOOK_SETTINGS,
  WebhookDispatcher,
  WebhooksService,
  type DomainSettings,
  type WebhookSettings,
} from '#domain';
import { PersistenceModule } from '#persistence';
import { AuditExportController } from './audit/audit-export.controller.js';
import { AuditController } from './audit/audit.controller.js';
import { loadAuditLogKey } from './audit/log-key.js';
import { TransparencyController } from './audit/transparency.controller.js';
import { CHECKPOINT_GAUGE, type CheckpointGauge } from './metrics/audit-log-gauges.js';
import { ApiTokens } from './auth/api-tokens.js';
import { RolesGuard } from './auth/roles.guard.js';
import { ConsoleSessionController } from './console/console-session.controller.js';
import { CeremoniesController } from './ceremonies/ceremonies.controller.js';
import { COORDINATOR_CONFIG, type CoordinatorConfig } from './config/coordinator-config.js';
import { GrantsController } from './grants/grants.controller.js';
import { HealthController } from './health/health.controller.js';
import { KeysController } from './keys/keys.controller.js';
import { NodeConnections } from './nodes/node-connections.js';
import { FrameRelay } from './cluster/frame-relay.js';
import { InstanceRegistry } from './cluster/instance-registry.js';
import { NodeGateway } from './nodes/node.gateway.js';
import { NodesController } from './nodes/nodes.controller.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OpenApiModule } from './openapi/openapi.module.js';
import { PrincipalsController } from './principals/principals.controller.js';
import { SigningRequestsController } from './signing/signing-requests.controller.js';
import { WebhooksController } from './webhooks/webhooks.controller.js';

/** Config and the node link, shared by every feature module. */
@Global()
@Module({})
class CoreModule {
  static forRoot(config: CoordinatorConfig): DynamicModule {
    const settings: DomainSettings = {
      coordinatorId: config.coordinatorId,
      attemptStaggerMs: config.attemptStaggerMs,
      defaultRequestTtlMs: config.requestTtlMs,
      maxRequestTtlMs: config.maxRequestTtlMs,
      maxGrantValidityMs: config.maxGrantValidityMs,
    };
    const webhooks: WebhookSettings = {
      retryDelaysMs: config.webhookRetryDelaysMs,
      pollIntervalMs: config.webhookPollIntervalMs,
      timeoutMs: config.webhookTimeoutMs,
      batchSize: 20,
    };
    return {
      module: CoreModule,
      providers: [
        { provide: COORDINATOR_CONFIG, useValue: config },
        { provide: DOMAIN_SETTINGS, useValue: settings },
        InstanceRegistry,
        NodeConnections,
        { provide: NODE_LINK, useExisting: NodeConnections },
        { provide: WEBHOOK_SETTINGS, useValue: webhooks },
      ],
      exports: [COORDINATOR_CONFIG, DOMAIN_SETTINGS, InstanceRegistry, NodeConnections, NODE_LINK, WEBHOOK_SETTINGS],
    };
  }
}

@Module({ controllers: [NodesController], providers: [NodesService, NodeAuthService], exports: [NodesService, NodeAuthService] })
class NodesModule {}

@Module({ controllers: [KeysController], providers: [KeysService] })
class KeysModule {}

/**
 * Resumes or ends the requests that were open when the coordinator last stopped, before nodes connect,
 * and starts the scheduler that fires deadlines and stagger looks no timer of this process covers.
 * With other instances alive, nothing is recovered: their attempts are running, and a node that comes
 * over from an instance that died is handled when it authenticates here (docs/protocol.md §3.2).
 */
class SigningRecovery implements OnApplicationBootstrap {
  private readonly logger = new Logger('SigningRecovery');
  constructor(
    @Inject(SigningService) private readonly signing: SigningService,
    @Inject(InstanceRegistry) private readonly instance: InstanceRegistry,
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
  ) {}
  async onApplicationBootstrap(): Promise<void> {
    if (this.instance.othersAtBoot.length === 0) {
      const n = await this.signing.recover();
      if (n > 0) this.logger.log(`${n} open signing request(s) recovered`);
    }
    this.signing.startScheduler(this.config.schedulerIntervalMs);
  }
}

@Module({
  controllers: [SigningRequestsController, GrantsController],
  providers: [SigningService, SigningRequestsService, SigningRecovery, GrantsService, GrantRequestsService],
  exports: [SigningService, GrantsService],
})
class SigningModule {}

/**
 * Re-arms the deadlines of ceremonies that were in a round when the coordinator last stopped, and starts
 * the scan that fires those of ceremonies no timer of this process covers (another instance's).
 */
class CeremonyRecovery implements OnApplicationBootstrap {
  private readonly logger = new Logger('CeremonyRecovery');
  constructor(
    @Inject(CeremonyService) private readonly ceremonies: CeremonyService,
    @Inject(CeremonyTransitions) private readonly transitions: CeremonyTransitions,
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
  ) {}
  async onApplicationBootstrap(): Promise<void> {
    const n = await this.ceremonies.recover();
    if (n > 0) this.logger.log(`${n} open ceremony(ies) recovered`);
    this.transitions.startScheduler(this.config.schedulerIntervalMs);
  }
}

@Module({
  controllers: [CeremoniesController],
  providers: [CeremonyTransitions, CeremonyService, CeremonyRelay, CeremonyRecovery],
  exports: [CeremonyService, CeremonyRelay],
})
class CeremoniesModule {}

/**
 * The audit chain, and the transparency log over it (its key from AUDIT_LOG_KEY_FILE: audit/log-key.ts).
 * Global for the metrics' optional CHECKPOINT_GAUGE.
 */
@Global()
@Module({
  controllers: [TransparencyController, AuditExportController, AuditController],
  providers: [
    AuditService,
    TransparencyLogService,
    WitnessService,
    { provide: AUDIT_LOG_KEY, inject: [COORDINATOR_CONFIG], useFactory: (config: CoordinatorConfig) => loadAuditLogKey(config) },
    {
      provide: CHECKPOINT_GAUGE,
      inject: [TransparencyLogService],
      useFactory: (log: TransparencyLogService): CheckpointGauge => ({
        latest: async () => {
          const c = await log.latestIssued();
          return c ? { size: c.treeSize, issuedAt: c.createdAt } : null;
        },
      }),
    },
  ],
  exports: [CHECKPOINT_GAUGE, WitnessService],
})
class AuditModule {}

/**
 * API principals, the web console's sessions, and the guard that authenticates every REST route (a
 * bearer token or the console's cookie) and checks its roles (global, so that a new route is admin-only
 * until it says otherwise: see auth/roles.ts).
 */
@Module({
  controllers: [PrincipalsController, ConsoleSessionController],
  providers: [PrincipalsService, ApiTokens, ConsoleSessionsService, { provide: APP_GUARD, useClass: RolesGuard }],
})
class PrincipalsModule {}

/** Webhook subscriptions, and the worker that sends their outbox (signed, retried with backoff). */
@Module({ controllers: [WebhooksController], providers: [WebhooksService, WebhookDispatcher] })
class WebhooksModule {}

@Module({ imports: [NodesModule, SigningModule, CeremoniesModule], providers: [NodeGateway, FrameRelay] })
class GatewayModule {}

// Terminus's own logger would log every failed check as an error; the controller logs the cause once.
@Module({ imports: [TerminusModule.forRoot({ logger: false })], controllers: [HealthController] })
class HealthModule {}

@Module({})
export class CoordinatorModule {
  static forRoot(config: CoordinatorConfig): DynamicModule {
    return {
      module: CoordinatorModule,
      imports: [
        CoreModule.forRoot(config),
        PersistenceModule.forRoot({ ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}), dataDir: config.dataDir }),
        NodesModule,
        KeysModule,
        SigningModule,
        CeremoniesModule,
        AuditModule,
        PrincipalsModule,
        WebhooksModule,
        GatewayModule,
        HealthModule,
        MetricsModule,
        OpenApiModule,
      ],
    };
  }
}
