import type { EntityManager, UpdateResult } from 'typeorm';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids arrive from URLs and frames. PostgreSQL rejects a malformed uuid with an error, so lookups
 * check the form first and answer "not found" instead.
 */
export const isUuid = (value: string): boolean => UUID.test(value);

/** Writes aimed at one row by id: a miss means the caller's idea of the state is wrong. */
export function expectOneRow(result: UpdateResult, what: string): void {
  if (result.affected !== 1) throw new Error(`${what} not found`);
}

/** Runs `work` in the manager's transaction, or in a new one when the manager has none. */
export function inTransaction<T>(manager: EntityManager, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return manager.queryRunner?.isTransactionActive ? work(manager) : manager.transaction(work);
}

/** The SQLSTATE and constraint of a failed query, whichever driver (pg or PGlite) raised it. */
export function databaseErrorOf(error: unknown): { code?: string; constraint?: string } {
  if (typeof error !== 'object' || error === null) return {};
  const cause = (error as { driverError?: unknown }).driverError ?? error;
  if (typeof cause !== 'object' || cause === null) return {};
  const { code, constraint } = cause as { code?: unknown; constraint?: unknown };
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof constraint === 'string' ? { constraint } : {}),
  };
}

export const UNIQUE_VIOLATION = '23505';

/**
 * Runs an insert and turns a unique violation of one of `conflicts`' constraints into the error it names
 * (a domain error, as a sequential duplicate would get). A check-then-insert in a service cannot see a
 * concurrent insert that has not committed yet: the constraint decides, and the loser of the race must
 * not surface as INTERNAL. Other errors pass through.
 */
export async function mapUniqueViolations<T>(work: () => Promise<T>, conflicts: Readonly<Record<string, () => Error>>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const { code, constraint } = databaseErrorOf(error);
    const conflict = code === UNIQUE_VIOLATION && constraint !== undefined ? conflicts[constraint] : undefined;
    throw conflict ? conflict() : error;
  }
}
