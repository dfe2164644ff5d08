import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * Every setting the coordinator reads from the environment, with its default and its description.
 * `--help` prints this table (names, defaults and descriptions are read from the schemas themselves).
 */
const Schema = z.object({
  ROUNDTABLE_ADMIN_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .describe(
      'Bootstrap admin bearer token for the /v1 REST API (at least 16 characters; principals created with it authenticate with their own API keys); the CLIs read the same variable.',
    ),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(?:ql)?:\/\//, 'must be a postgres:// URL')
    .optional()
    .describe('postgres://… ; unset: embedded PostgreSQL (PGlite) in DATA_DIR.'),
  DATA_DIR: z.string().min(1).default('./data/coordinator').describe('Embedded database directory (memory:// for a throwaway one).'),
  DATABASE_CONNECT_TIMEOUT_MS: int(0, 3_600_000)
    .default(30_000)
    .describe('At boot, how long to keep retrying (exponential backoff) an unreachable PostgreSQL before exiting (0: try once).'),
  HOST: z.string().min(1).default('127.0.0.1').describe('Listen address (HTTP and WebSocket on one port).'),
  PORT: int(0, 65535).default(8080).describe('Listen port.'),
  COORDINATOR_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits and . _ : - only, at most 128')
    .default('roundtable')
    .describe("Bound into every node's authentication signature; give each deployment its own."),
  ATTEMPT_STAGGER_MS: int(0, 600_000)
    .default(500)
    .describe('ROAST: how long the newest running attempt may go without progress before another starts beside it.'),
  REQUEST_TTL_MS: int(1_000, 7 * 86_400_000).default(120_000).describe('Deadline of a signing request that names none.'),
  MAX_REQUEST_TTL_MS: int(1_000, 30 * 86_400_000).default(86_400_000).describe('Latest deadline a signing request may ask for.'),
  MAX_GRANT_VALIDITY_MS: int(60_000, 366 * 86_400_000).default(90 * 86_400_000).describe('Longest a session-key grant may be valid (validUntil - validAfter).'),
  HTTP_HEADERS_TIMEOUT_MS: int(500, 120_000)
    .default(5_000)
    .describe("Time a client has to send a request's headers, WebSocket upgrades included; then 408 and the socket is closed."),
  HTTP_REQUEST_TIMEOUT_MS: int(500, 600_000)
    .default(30_000)
    .describe('Time a client has to send a whole request, body included; then 408 and the socket is closed.'),
  MAX_CONNECTIONS_PER_ADDRESS: int(1, 100_000)
    .default(256)
    .describe('Open TCP connections (HTTP and WebSocket) one remote address may hold; more are refused with 429.'),
  MAX_UNAUTHENTICATED_PER_ADDRESS: int(1, 100_000)
    .default(128)
    .describe('WebSocket connections one remote address may hold before authenticating; more are closed with 1013.'),
  WEBHOOK_RETRY_DELAYS_MS: z
    .string()
    .regex(/^\d{1,9}(,\d{1,9}){0,19}$/, 'a comma-separated list of at most 20 delays in ms')
    .default('5000,30000,120000,600000,1800000,7200000,21600000')
    .describe('Webhooks: the wait before each retry of a delivery, in ms (then it has failed).'),
  WEBHOOK_POLL_INTERVAL_MS: int(10, 60_000).default(1_000).describe('Webhooks: how often the delivery worker looks for due deliveries.'),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000).describe('Webhooks: how long a receiver has to answer one delivery attempt.'),
  AUDIT_LOG_KEY_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('Transparency log: the Ed25519 log key (hex seed, created 0600 when absent); unset: DATA_DIR/audit-log.key (in memory with memory://).'),
  AUDIT_LOG_ORIGIN: z
    .string()
    .regex(/^[^\s+]{1,200}$/, 'no whitespace or +, at most 200 characters')
    .optional()
    .describe("Transparency log: the checkpoints' origin line and note key name (default roundtable/<COORDINATOR_ID>/audit); rotate with a new key and a new origin."),
  AUDIT_CHECKPOINT_INTERVAL_MS: int(0, 3_600_000)
    .default(3_000)
    .describe('Transparency log: how often to sign a checkpoint while entries arrive (0: only on demand).'),
  AUDIT_WITNESS_INTERVAL_MS: int(0, 3_600_000)
    .default(3_000)
    .describe('Transparency log: how often to show the latest checkpoint to connected nodes that have not cosigned it (0: the nodes witness nothing).'),
  CONSOLE_SESSION_TTL_MS: int(60_000, 30 * 86_400_000)
    .default(8 * 3_600_000)
    .describe('Web console: how long a sign-in lasts (the session cookie and its row expire together).'),
  CONSOLE_COOKIE_SECURE: z
    .enum(['auto', 'always'])
    .default('auto')
    .describe('Web console: mark the session cookie Secure when the request came over TLS (auto), or always (behind a TLS-terminating proxy).'),
  INSTANCE_HEARTBEAT_MS: int(100, 60_000)
    .default(2_000)
    .describe('Several instances: how often this instance refreshes its row in coordinator_instances (and picks up relayed frames it missed).'),
  INSTANCE_TTL_MS: int(500, 600_000)
    .default(10_000)
    .describe("Several instances: an instance whose heartbeat is older than this counts as gone; its nodes' connections are no longer routed to."),
  SCHEDULER_INTERVAL_MS: int(0, 60_000)
    .default(1_000)
    .describe('How often this instance looks for open requests past their deadline or stagger time that no timer of its own covers (0: never).'),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose', 'silent']).default('log').describe('error, warn, log, debug, verbose or silent.'),
  LOG_FORMAT: z.enum(['text', 'json']).default('text').describe('text (one line per entry, coloured only on a terminal) or json (one JSON object per line).'),
});

type Settings = z.infer<typeof Schema>;

export interface CoordinatorConfig {
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly databaseConnectTimeoutMs: number;
  readonly adminToken: string;
  readonly coordinatorId: string;
  readonly attemptStaggerMs: number;
  readonly requestTtlMs: number;
  readonly maxRequestTtlMs: number;
  readonly maxGrantValidityMs: number;
  readonly httpHeadersTimeoutMs: number;
  readonly httpRequestTimeoutMs: number;
  readonly maxConnectionsPerAddress: number;
  readonly maxUnauthenticatedPerAddress: number;
  readonly webhookRetryDelaysMs: readonly number[];
  readonly webhookPollIntervalMs: number;
  readonly webhookTimeoutMs: number;
  readonly auditLogKeyFile: string | undefined;
  readonly auditLogOrigin: string;
  readonly auditCheckpointIntervalMs: number;
  readonly auditWitnessIntervalMs: number;
  readonly consoleSessionTtlMs: number;
  readonly consoleCookieSecure: Settings['CONSOLE_COOKIE_SECURE'];
  readonly instanceHeartbeatMs: number;
  readonly instanceTtlMs: number;
  readonly schedulerIntervalMs: number;
  readonly logLevel: Settings['LOG_LEVEL'];
  readonly logFormat: Settings['LOG_FORMAT'];
}

/** A bad setting: the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Variables that were renamed: old name, new name. A coordinator given only the old one refuses to start. */
const RENAMED: readonly (readonly [string, keyof Settings])[] = [['ADMIN_TOKEN', 'ROUNDTABLE_ADMIN_TOKEN']];

/** Parses the environment once into a frozen config; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  const blank = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const renamed = RENAMED.filter(([old, now]) => blank[old] !== undefined && blank[now] === undefined);
  const parsed = Schema.safeParse(blank);
  const lines = [
    ...renamed.map(([old, now]) => `${old}: was renamed; set ${now} instead (the same name the CLIs read)`),
    ...(parsed.success ? [] : parsed.error.issues)
      .filter((i) => !renamed.some(([, now]) => i.path[0] === now))
      .map((i) => `${i.path.join('.')}: ${i.message}`),
  ];
  if (lines.length > 0 || !parsed.success) throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  const c = parsed.data;
  if (c.REQUEST_TTL_MS > c.MAX_REQUEST_TTL_MS) {
    throw new ConfigError('invalid configuration:\n  REQUEST_TTL_MS: must not exceed MAX_REQUEST_TTL_MS');
  }
  if (c.INSTANCE_TTL_MS < 2 * c.INSTANCE_HEARTBEAT_MS) {
    throw new ConfigError('invalid configuration:\n  INSTANCE_TTL_MS: must be at least twice INSTANCE_HEARTBEAT_MS');
  }
  if (c.HTTP_HEADERS_TIMEOUT_MS > c.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('invalid configuration:\n  HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }
  return Object.freeze({
    host: c.HOST,
    port: c.PORT,
    databaseUrl: c.DATABASE_URL,
    dataDir: c.DATA_DIR,
    databaseConnectTimeoutMs: c.DATABASE_CONNECT_TIMEOUT_MS,
    adminToken: c.ROUNDTABLE_ADMIN_TOKEN,
    coordinatorId: c.COORDINATOR_ID,
    attemptStaggerMs: c.ATTEMPT_STAGGER_MS,
    requestTtlMs: c.REQUEST_TTL_MS,
    maxRequestTtlMs: c.MAX_REQUEST_TTL_MS,
    maxGrantValidityMs: c.MAX_GRANT_VALIDITY_MS,
    httpHeadersTimeoutMs: c.HTTP_HEADERS_TIMEOUT_MS,
    httpRequestTimeoutMs: c.HTTP_REQUEST_TIMEOUT_MS,
    maxConnectionsPerAddress: c.MAX_CONNECTIONS_PER_ADDRESS,
    maxUnauthenticatedPerAddress: c.MAX_UNAUTHENTICATED_PER_ADDRESS,
    webhookRetryDelaysMs: Object.freeze(c.WEBHOOK_RETRY_DELAYS_MS.split(',').map(Number)),
    webhookPollIntervalMs: c.WEBHOOK_POLL_INTERVAL_MS,
    webhookTimeoutMs: c.WEBHOOK_TIMEOUT_MS,
    auditLogKeyFile: c.AUDIT_LOG_KEY_FILE,
    auditLogOrigin: c.AUDIT_LOG_ORIGIN ?? `roundtable/${c.COORDINATOR_ID}/audit`,
    auditCheckpointIntervalMs: c.AUDIT_CHECKPOINT_INTERVAL_MS,
    auditWitnessIntervalMs: c.AUDIT_WITNESS_INTERVAL_MS,
    consoleSessionTtlMs: c.CONSOLE_SESSION_TTL_MS,
    consoleCookieSecure: c.CONSOLE_COOKIE_SECURE,
    instanceHeartbeatMs: c.INSTANCE_HEARTBEAT_MS,
    instanceTtlMs: c.INSTANCE_TTL_MS,
    schedulerIntervalMs: c.SCHEDULER_INTERVAL_MS,
    logLevel: c.LOG_LEVEL,
    logFormat: c.LOG_FORMAT,
  });
}

/** One environment variable as `--help` lists it. */
export interface SettingHelp {
  name: string;
  /** The default as text, `(required)`, or `(unset)` for optional settings without one. */
  default: string;
  description: string;
}

/** Every variable with its default and description, read from the schema that parses them. */
export function settingsHelp(): SettingHelp[] {
  return Object.entries(Schema.shape).map(([name, schema]: [string, z.ZodType]) => {
    const probe = schema.safeParse(undefined);
    const value: unknown = probe.success ? probe.data : undefined;
    const shown = !probe.success ? '(required)' : value === undefined ? '(unset)' : typeof value === 'string' ? value : JSON.stringify(value);
    return { name, default: shown, description: schema.description ?? '' };
  });
}

/** The `--help` text of the coordinator binary. */
export function helpText(version: string): string {
  const rows = settingsHelp();
  const nameWidth = Math.max(...rows.map((r) => r.name.length));
  const defaultWidth = Math.max(...rows.map((r) => r.default.length));
  return [
    `roundtable coordinator ${version}: FROST (RFC 9591) threshold-signing coordinator`,
    '',
    'Usage: node dist/apps/coordinator/src/main.js [--help | --version]',
    '',
    'Configured by environment variables (name, default, meaning):',
    ...rows.map((r) => `  ${r.name.padEnd(nameWidth)}  ${r.default.padEnd(defaultWidth)}  ${r.description}`),
    '',
    'Exit codes: 0 stopped by SIGTERM/SIGINT, 1 failed to start or crashed, 2 invalid configuration or arguments.',
  ].join('\n');
}

export const COORDINATOR_CONFIG = Symbol('COORDINATOR_CONFIG');
