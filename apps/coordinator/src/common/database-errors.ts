/** Connection-level failures: the database is unreachable, not the request wrong. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const CONNECTION_MESSAGES = /Connection terminated|connection is closed|Client has encountered a connection error|timeout exceeded when trying to connect/i;

/** True when `e` (a pg, TypeORM or socket error, possibly wrapped) says the database cannot be reached. */
export function isDatabaseUnavailable(e: unknown): boolean {
  for (let current = e, depth = 0; current && depth < 4; depth++) {
    const err = current as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof err.code === 'string' && CONNECTION_CODES.has(err.code)) return true;
    if (typeof err.message === 'string' && CONNECTION_MESSAGES.test(err.message)) return true;
    current = err.driverError ?? err.cause;
  }
  return false;
}
