import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { STORE, type AttemptStatus, type Culprit, type SigningMetrics, type Store } from '#domain';
import { errorCodeOf } from '../logging/http-logging.js';
import { NodeConnections } from '../nodes/node-connections.js';
import { AuditLogLength, CHECKPOINT_GAUGE, type CheckpointGauge } from './audit-log-gauges.js';

/** Seconds: from tens of milliseconds (a local round) to the longest deadlines people set (an hour). */
const SIGNING_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60];

/**
 * The coordinator's Prometheus metrics, in a registry of its own (several coordinators may run in one
 * process, as the tests do; prom-client's global registry would mix them). It is the domain's
 * SigningMetrics sink, counts HTTP answers, and reads its gauges (connected nodes, audit log length, the
 * latest checkpoint) when scraped.
 */
@Injectable()
export class CoordinatorMetrics implements SigningMetrics {
  readonly registry = new Registry();
  private readonly logger = new Logger('Metrics');
  private readonly http: Counter<'method' | 'route' | 'status'>;
  private readonly httpSeconds: Histogram<'method' | 'route'>;
  private readonly databaseErrors: Counter;
  private readonly requests: Counter<'status'>;
  private readonly timeToSignature: Histogram;
  private readonly requestSeconds: Histogram<'status'>;
  private readonly roundSeconds: Histogram<'round'>;
  private readonly attemptsStarted: Counter;
  private readonly attemptsEnded: Counter<'status'>;
  private readonly exclusions: Counter<'reason'>;

  constructor(
    @Inject(NodeConnections) connections: NodeConnections,
    @Inject(AuditLogLength) auditLog: AuditLogLength,
    @Optional() @Inject(CHECKPOINT_GAUGE) checkpoints?: CheckpointGauge,
    @Optional() @Inject(STORE) store?: Store,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'roundtable_' });
    this.http = new Counter({ name: 'roundtable_http_requests_total', help: 'HTTP requests answered, by route pattern and status', labelNames: ['method', 'route', 'status'], registers });
    this.httpSeconds = new Histogram({ name: 'roundtable_http_request_duration_seconds', help: 'Time to answer an HTTP request', labelNames: ['method', 'route'], buckets: HTTP_BUCKETS, registers });
    this.databaseErrors = new Counter({ name: 'roundtable_database_errors_total', help: 'Answers the database could not give: HTTP 503 DATABASE_UNAVAILABLE, and failed reads of the audit log gauge', registers });
    this.requests = new Counter({ name: 'roundtable_signing_requests_total', help: 'Signing requests that reached a final status, by that status', labelNames: ['status'], registers });
    this.timeToSignature = new Histogram({ name: 'roundtable_signing_time_to_signature_seconds', help: 'From a request\'s creation to its signature (completed requests)', buckets: SIGNING_BUCKETS, registers });
    this.requestSeconds = new Histogram({ name: 'roundtable_signing_request_duration_seconds', help: 'From a request\'s creation to its final status, by that status', labelNames: ['status'], buckets: SIGNING_BUCKETS, registers });
    this.roundSeconds = new Histogram({
      name: 'roundtable_signing_round_duration_seconds',
      help: 'Per round: commit (to an attempt\'s start, from the request\'s creation or the previous attempt\'s end) and sign (an attempt\'s start to its end)',
      labelNames: ['round'],
      buckets: SIGNING_BUCKETS,
      registers,
    });
    this.attemptsStarted = new Counter({ name: 'roundtable_signing_attempts_started_total', help: 'Signing attempts started', registers });
    this.attemptsEnded = new Counter({ name: 'roundtable_signing_attempts_ended_total', help: 'Signing attempts ended, by their final status', labelNames: ['status'], registers });
    this.exclusions = new Counter({ name: 'roundtable_signing_exclusions_total', help: 'Nodes excluded from a request, by culprit reason', labelNames: ['reason'], registers });
    new Gauge({
      name: 'roundtable_nodes_connected',
      help: 'Signer nodes with an authenticated connection to this coordinator',
      registers,
      collect() {
        this.set(connections.connectedNodeIds().length);
      },
    });
    const databaseErrors = this.databaseErrors;
    const logger = this.logger;
    new Gauge({
      name: 'roundtable_audit_entries',
      help: 'Entries in the audit log',
      registers,
      async collect() {
        try {
          this.set(await auditLog.entries());
        } catch (e) {
          // A scrape during an outage still answers; the gauge keeps its last value.
          databaseErrors.inc();
          logger.warn(`audit log length not read: ${e instanceof Error ? e.message : String(e)}`);
        }
      },
    });
    if (checkpoints) this.registerCheckpointGauges(checkpoints);
    if (store) {
      new Gauge({
        name: 'roundtable_nonce_stock',
        help: "Nonce commitments the nodes have sent that no attempt has used yet (open requests; in two-round signing each belongs to one request)",
        registers,
        async collect() {
          try {
            this.set(await store.read.commitments.countReady());
          } catch (e) {
            databaseErrors.inc();
            logger.warn(`nonce stock not read: ${e instanceof Error ? e.message : String(e)}`);
          }
        },
      });
    }
  }

  private registerCheckpointGauges(checkpoints: CheckpointGauge): void {
    let latest: Promise<{ size: number; issuedAt: Date } | null> | null = null;
    // Both gauges read one checkpoint per scrape.
    const read = () => (latest ??= checkpoints.latest().finally(() => setImmediate(() => (latest = null))));
    const logger = this.logger;
    new Gauge({
      name: 'roundtable_audit_checkpoint_size',
      help: 'Tree size of the latest signed audit checkpoint',
      registers: [this.registry],
      async collect() {
        const c = await read().catch((e: unknown) => void logger.warn(`checkpoint not read: ${String(e)}`));
        if (c) this.set(c.size);
      },
    });
    new Gauge({
      name: 'roundtable_audit_checkpoint_age_seconds',
      help: 'Seconds since the latest signed audit checkpoint was issued',
      registers: [this.registry],
      async collect() {
        const c = await read().catch(() => undefined);
        if (c) this.set(Math.max(0, (Date.now() - c.issuedAt.getTime()) / 1000));
      },
    });
  }

  // ------------------------------------------------------------------ SigningMetrics

  requestFinished(status: 'completed' | 'failed' | 'expired' | 'cancelled', secondsOpen: number): void {
    this.requests.inc({ status });
    this.requestSeconds.observe({ status }, secondsOpen);
    if (status === 'completed') this.timeToSignature.observe(secondsOpen);
  }

  attemptStarted(commitSeconds: number): void {
    this.attemptsStarted.inc();
    this.roundSeconds.observe({ round: 'commit' }, commitSeconds);
  }

  attemptEnded(status: AttemptStatus, signSeconds: number): void {
    this.attemptsEnded.inc({ status });
    this.roundSeconds.observe({ round: 'sign' }, signSeconds);
  }

  nodeExcluded(reason: Culprit['reason']): void {
    this.exclusions.inc({ reason });
  }

  // ------------------------------------------------------------------ HTTP

  /**
   * Express middleware: counts every answer once sent, by the route pattern Express matched (`/v1/nodes/:id`,
   * never the raw path: ids would make a series per request) or `unmatched`.
   */
  httpMiddleware(): (req: Request, res: Response, next: NextFunction) => void {
    return (req, res, next) => {
      const stop = this.httpSeconds.startTimer();
      res.once('finish', () => this.countAnswer(req, res, stop));
      next();
    };
  }

  private countAnswer(req: IncomingMessage & { route?: { path?: unknown }; baseUrl?: string }, res: ServerResponse, stop: (labels: { method: string; route: string }) => void): void {
    const route = typeof req.route?.path === 'string' ? `${req.baseUrl ?? ''}${req.route.path}` : 'unmatched';
    const method = req.method ?? 'UNKNOWN';
    this.http.inc({ method, route, status: String(res.statusCode) });
    stop({ method, route });
    if (errorCodeOf(res) === 'DATABASE_UNAVAILABLE') this.databaseErrors.inc();
  }
}
