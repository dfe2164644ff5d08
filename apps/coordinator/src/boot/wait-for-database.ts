import { BootError } from './boot-error.js';

export interface WaitForDatabaseOptions {
  /** Where the database is, for the messages (no credentials): `host:port/name`. */
  where: string;
  /** How long to keep retrying; 0 tries once. */
  timeoutMs: number;
  /** One connection attempt, bounded by the given time. */
  probe: (attemptTimeoutMs: number) => Promise<void>;
  /** Whether a failure means "not reachable (yet)" rather than "refused" (bad password, no such database). */
  isRetryable: (e: unknown) => boolean;
  log: { warn(message: string): void; log(message: string): void; debug(message: string): void };
  initialDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/**
 * Waits until the database accepts a connection: one warning when it does not at first, retries with
 * exponential backoff (0.25 s doubling to 5 s) for `timeoutMs`, then a BootError with one clear line.
 * A refusal that retrying cannot fix (authentication, unknown database) fails at once.
 */
export async function waitForDatabase(options: WaitForDatabaseOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const start = now();
  const deadline = start + options.timeoutMs;
  let delay = options.initialDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      await options.probe(Math.min(5_000, Math.max(500, deadline - now())));
      if (attempt > 1) options.log.log(`database at ${options.where} reachable after ${seconds(now() - start)}`);
      return;
    } catch (e) {
      const reason = reasonOf(e);
      if (!options.isRetryable(e)) {
        throw new BootError(`cannot use the database at ${options.where}: ${reason}`, 'DATABASE_REFUSED', { cause: e });
      }
      const left = deadline - now();
      if (left <= 0) {
        throw new BootError(
          `database at ${options.where} still unreachable after ${seconds(now() - start)} (${reason}); giving up (DATABASE_CONNECT_TIMEOUT_MS=${options.timeoutMs})`,
          'DATABASE_UNREACHABLE',
          { cause: e },
        );
      }
      if (attempt === 1) options.log.warn(`database at ${options.where} unreachable (${reason}); retrying for up to ${seconds(options.timeoutMs)}`);
      else options.log.debug(`database at ${options.where} still unreachable (${reason}), attempt ${attempt}`);
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
}

/** `host:port/database` of a PostgreSQL URL, without its credentials. */
export function databaseWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}
