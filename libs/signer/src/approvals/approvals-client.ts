import { connect } from 'node:net';
import { describeError } from '../logger.js';
import { SignerError } from '../signer-error.js';
import { ApprovalsResponses, MAX_APPROVALS_LINE_BYTES, type ApprovalsRequest, type ApprovalsResponse } from './approvals-protocol.js';
import { readLine } from './line-io.js';
import { approvalsSocketPath } from './socket-path.js';

const DEFAULT_TIMEOUT_MS = 30_000;

type Success<Op extends ApprovalsRequest['op']> = Extract<ApprovalsResponse<Op>, { ok: true }>;

/**
 * The CLI's end of the approvals channel: sends one request to the node running on `keystoreDir` and
 * returns its successful answer, parsed with the same schemas the node answers with. A refusal by the
 * node is APPROVALS_REFUSED (its message names the reason); no node listening is APPROVALS_UNAVAILABLE.
 */
export async function callApprovals<R extends ApprovalsRequest>(
  keystoreDir: string,
  request: R,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<Success<R['op']>> {
  const path = approvalsSocketPath(keystoreDir);
  const line = await new Promise<string>((resolve, reject) => {
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SignerError('APPROVALS_UNAVAILABLE', `the signer node on ${path} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(unavailable(path, e));
    });
    socket.once('connect', () => {
      socket.write(`${JSON.stringify(request)}\n`);
      readLine(socket, MAX_APPROVALS_LINE_BYTES).then(
        (l) => {
          clearTimeout(timer);
          socket.end();
          resolve(l);
        },
        (e: unknown) => {
          clearTimeout(timer);
          socket.destroy();
          reject(new SignerError('APPROVALS_UNAVAILABLE', `the signer node on ${path} sent no answer: ${describeError(e)}`));
        },
      );
    });
  });
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new SignerError('APPROVALS_UNAVAILABLE', `the signer node on ${path} answered something other than JSON`);
  }
  const schema = ApprovalsResponses[request.op as R['op']];
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new SignerError('APPROVALS_UNAVAILABLE', `the signer node on ${path} answered in an unknown form: ${parsed.error.issues[0]?.message ?? ''}`);
  }
  const response = parsed.data as ApprovalsResponse<R['op']>;
  if (!response.ok) throw new SignerError('APPROVALS_REFUSED', `${response.code}: ${response.message}`);
  return response as Success<R['op']>;
}

function unavailable(path: string, e: NodeJS.ErrnoException): SignerError {
  switch (e.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new SignerError('APPROVALS_UNAVAILABLE', `no signer node is running on this keystore (nothing listens on ${path}): start it with \`signer run\``);
    case 'EACCES':
    case 'EPERM':
      return new SignerError('APPROVALS_UNAVAILABLE', `permission denied on ${path}: run this as the user that runs the signer node`);
    default:
      return new SignerError('APPROVALS_UNAVAILABLE', `cannot reach the signer node on ${path}: ${describeError(e)}`);
  }
}
