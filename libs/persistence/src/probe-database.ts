import pg from 'pg';

/**
 * Opens one connection to the PostgreSQL server at `url` and closes it again: rejects with the driver's
 * error when the server cannot be reached (or refuses the login). `timeoutMs` bounds the attempt, so
 * that a host that drops packets does not hang the caller.
 */
export async function probeDatabase(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: Math.max(1, Math.round(timeoutMs)) });
  // A connection lost after connect() must not become an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}
