import pg from 'pg';

export interface NotificationListenerOptions {
  databaseUrl: string;
  /** Channel names (identifiers); each is LISTENed to, quoted. */
  channels: readonly string[];
  onNotification(channel: string, payload: string): void;
  /**
   * Run on every (re)connection before LISTEN, on the listener's own session: e.g. take a session-level
   * advisory lock that says this process is alive for as long as the connection is.
   */
  setup?(query: (sql: string, params?: unknown[]) => Promise<unknown>): Promise<void>;
  /** After every (re)connection: notifications sent while it was down are lost, so callers catch up. */
  onListening?(): void;
  log?(message: string): void;
}

export interface NotificationListener {
  close(): Promise<void>;
}

const quoted = (channel: string): string => `"${channel.replace(/"/g, '""')}"`;

/**
 * PostgreSQL LISTEN on a connection of its own (a pooled one may be handed to anyone between
 * transactions), reconnecting with backoff for as long as it is open. Notifications are delivered at
 * the sender's commit; while the connection is down they are lost, hence `onListening`.
 */
export async function listenForNotifications(options: NotificationListenerOptions): Promise<NotificationListener> {
  let client: pg.Client | undefined;
  let closed = false;
  let retryMs = 250;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: options.databaseUrl });
    c.on('notification', (n) => options.onNotification(n.channel, n.payload ?? ''));
    c.on('error', (e) => {
      options.log?.(`notification listener: ${e.message}; reconnecting`);
      void c.end().catch(() => undefined);
    });
    c.on('end', () => {
      if (client === c) client = undefined;
      if (!closed) schedule();
    });
    await c.connect();
    await options.setup?.((sql, params) => c.query(sql, params));
    for (const channel of options.channels) await c.query(`LISTEN ${quoted(channel)}`);
    client = c;
    retryMs = 250;
    options.onListening?.();
  };

  const schedule = (): void => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect().catch((e: unknown) => {
        options.log?.(`notification listener could not connect: ${(e as Error).message}`);
        retryMs = Math.min(retryMs * 2, 10_000);
        schedule();
      });
    }, retryMs);
    timer.unref();
  };

  await connect();
  return {
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}
