import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every setting the coordinator reads from the environment, with its default. */
const Schema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(8080),
  /** PostgreSQL URL; without it the coordinator runs on an embedded PostgreSQL (PGlite) in DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(?:ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data/coordinator'),
  /** Bearer token for the admin REST API (roles come later). */
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  /** Signed by nodes in their authentication transcript; unique per coordinator deployment. */
  COORDINATOR_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits and . _ : - only, at most 128')
    .default('roundtable'),
  ATTEMPT_STAGGER_MS: int(0, 600_000).default(500),
  REQUEST_TTL_MS: int(1_000, 7 * 86_400_000).default(120_000),
  MAX_REQUEST_TTL_MS: int(1_000, 30 * 86_400_000).default(86_400_000),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose', 'silent']).default('log'),
  LOG_FORMAT: z.enum(['text', 'json']).default('text'),
});

export interface CoordinatorConfig {
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly adminToken: string;
  readonly coordinatorId: string;
  readonly attemptStaggerMs: number;
  readonly requestTtlMs: number;
  readonly maxRequestTtlMs: number;
  readonly logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose' | 'silent';
  readonly logFormat: 'text' | 'json';
}

/** A bad setting: the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once into a frozen config; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  const blank = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = Schema.safeParse(blank);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  if (c.REQUEST_TTL_MS > c.MAX_REQUEST_TTL_MS) {
    throw new ConfigError('invalid configuration:\n  REQUEST_TTL_MS: must not exceed MAX_REQUEST_TTL_MS');
  }
  return Object.freeze({
    host: c.HOST,
    port: c.PORT,
    databaseUrl: c.DATABASE_URL,
    dataDir: c.DATA_DIR,
    adminToken: c.ADMIN_TOKEN,
    coordinatorId: c.COORDINATOR_ID,
    attemptStaggerMs: c.ATTEMPT_STAGGER_MS,
    requestTtlMs: c.REQUEST_TTL_MS,
    maxRequestTtlMs: c.MAX_REQUEST_TTL_MS,
    logLevel: c.LOG_LEVEL,
    logFormat: c.LOG_FORMAT,
  });
}

export const COORDINATOR_CONFIG = Symbol('COORDINATOR_CONFIG');
