import { chmod, lstat, stat, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { describeError, silentLogger, type SignerLogger } from '../logger.js';
import { SignerError } from '../signer-error.js';
import { ApprovalsRefusal, ApprovalsRequest, MAX_APPROVALS_LINE_BYTES, type AnyApprovalsResponse } from './approvals-protocol.js';
import { readLine } from './line-io.js';
import { approvalsSocketPath } from './socket-path.js';

/** Answers one parsed request; throws ApprovalsRefusal for a refusal the operator should read. */
export type ApprovalsHandler = (request: ApprovalsRequest) => Promise<AnyApprovalsResponse>;

/** Owner read/write only: the socket, inside a directory only the owner can enter. */
const SOCKET_MODE = 0o600;
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The node's end of the operator's approvals channel: a UNIX socket at `<keystore>/approvals.sock`,
 * mode 0600, in the keystore directory (which must be 0700 and the node's own): only the operator's
 * account can connect. One JSON request line per connection, one response line back.
 */
export class ApprovalsServer {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly path: string,
    private readonly logger: SignerLogger,
  ) {}

  static async listen(keystoreDir: string, handler: ApprovalsHandler, logger: SignerLogger = silentLogger): Promise<ApprovalsServer> {
    const path = approvalsSocketPath(keystoreDir);
    await assertPrivateDirectory(dirname(path));
    await removeStaleSocket(path);
    const server = createServer();
    const channel = new ApprovalsServer(server, path, logger);
    server.on('connection', (socket) => channel.serve(socket, handler));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket is created by bind(), synchronously inside listen(): a umask in force for that call
      // only makes it 0600 from the start (the chmod below makes sure).
      const umask = process.umask(0o177);
      try {
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(umask);
      }
    }).catch((e: unknown) => {
      throw new SignerError('APPROVALS_CHANNEL_INSECURE', `cannot open the approvals socket ${path}: ${describeError(e)}`, { cause: e });
    });
    await chmod(path, SOCKET_MODE);
    return channel;
  }

  /** Stops accepting, drops open connections and removes the socket file. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await unlink(this.path).catch(() => undefined);
  }

  private serve(socket: Socket, handler: ApprovalsHandler): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
    void readLine(socket, MAX_APPROVALS_LINE_BYTES)
      .then(async (line) => answer(line, handler))
      .catch((e: unknown): AnyApprovalsResponse => ({ ok: false, code: 'BAD_REQUEST', message: describeError(e) }))
      .then((response) => {
        if (!socket.destroyed) socket.end(`${JSON.stringify(response)}\n`);
      })
      .catch((e: unknown) => this.logger.error({ err: describeError(e) }, 'the approvals channel failed to answer'));
  }
}

async function answer(line: string, handler: ApprovalsHandler): Promise<AnyApprovalsResponse> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, code: 'BAD_REQUEST', message: 'the request is not JSON' };
  }
  const parsed = ApprovalsRequest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, code: 'BAD_REQUEST', message: `${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}` };
  }
  try {
    return await handler(parsed.data);
  } catch (e) {
    if (e instanceof ApprovalsRefusal) return { ok: false, code: e.code, message: e.message };
    return { ok: false, code: 'APPROVAL_FAILED', message: describeError(e) };
  }
}

/** The keystore directory must be the node user's own and closed to everyone else (0700). */
async function assertPrivateDirectory(dir: string): Promise<void> {
  const info = await stat(dir);
  const uid = process.getuid?.();
  if ((info.mode & 0o077) !== 0 || (uid !== undefined && info.uid !== uid)) {
    throw new SignerError(
      'APPROVALS_CHANNEL_INSECURE',
      `the keystore directory ${dir} is mode ${(info.mode & 0o777).toString(8)}, owner ${info.uid}: the approvals socket ` +
        `needs a directory only this user can enter (chmod 700 ${dir})`,
    );
  }
}

/** The keystore lock is held: a socket left at the path is a crashed run's. Anything else there is refused. */
async function removeStaleSocket(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!info.isSocket()) {
    throw new SignerError('APPROVALS_CHANNEL_INSECURE', `${path} exists and is not a socket: remove it; the node puts its approvals socket there`);
  }
  await unlink(path);
}
