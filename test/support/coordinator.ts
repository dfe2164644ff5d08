import { loadConfig, startCoordinator, type CoordinatorConfig, type RunningCoordinator, type StartOptions } from '#coordinator';
import { createTestDatabase } from './database.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestCoordinator extends RunningCoordinator {
  config: CoordinatorConfig;
  /** Admin REST call; returns status and parsed JSON body. */
  api<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  /** Stops the app and drops its database. */
  destroy(): Promise<void>;
  /** Stops the app but keeps the database, then starts a new app on it (a coordinator restart). */
  restart(): Promise<TestCoordinator>;
  /** Stops the app and keeps the database (another coordinator may use the process's embedded slot); restart() resumes it. */
  pause(): Promise<void>;
}

export async function startTestCoordinator(overrides: Partial<CoordinatorConfig> = {}, options: StartOptions = {}): Promise<TestCoordinator> {
  const db = await createTestDatabase();
  const config: CoordinatorConfig = Object.freeze({
    // Every setting's default (limits, deadlines), from the same schema the coordinator reads its environment with.
    ...loadConfig({ ROUNDTABLE_ADMIN_TOKEN: ADMIN_TOKEN }),
    host: '127.0.0.1',
    port: 0,
    databaseUrl: db.databaseUrl,
    dataDir: db.dataDir,
    adminToken: ADMIN_TOKEN,
    coordinatorId: 'roundtable-test',
    attemptStaggerMs: 100,
    requestTtlMs: 30_000,
    maxRequestTtlMs: 86_400_000,
    logLevel: 'silent' as const,
    logFormat: 'text' as const,
    // The webhook worker, the checkpoint timer and the witness round read the database in the background;
    // tests that count queries need them quiet. Webhook, checkpoint and witness tests set short intervals
    // (checkpoints are also issued on demand by GET /v1/audit/checkpoint).
    webhookPollIntervalMs: 60_000,
    auditCheckpointIntervalMs: 60_000,
    auditWitnessIntervalMs: 60_000,
    // Likewise the instance heartbeat and the scheduler's scan (deadlines and stagger looks also have
    // timers in the process that armed them); the several-instances tests set short ones.
    instanceHeartbeatMs: 60_000,
    instanceTtlMs: 300_000,
    schedulerIntervalMs: 60_000,
    ...overrides,
  });
  return wrap(await startCoordinator(config, options), config, db.drop, options);
}

function wrap(running: RunningCoordinator, config: CoordinatorConfig, drop: () => Promise<void>, options: StartOptions = {}): TestCoordinator {
  const api: TestCoordinator['api'] = async (method, path, body, headers = {}) => {
    const res = await fetch(`${running.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as never };
  };
  let closed: Promise<void> | null = null;
  const close = () => (closed ??= running.close());
  return {
    ...running,
    config,
    api,
    destroy: async () => {
      await close();
      await drop();
    },
    pause: close,
    restart: async () => {
      await close();
      const again = await startCoordinator({ ...config, port: Number(new URL(running.httpUrl).port) }, options);
      return wrap(again, config, drop, options);
    },
  };
}
