import { join, resolve } from 'node:path';
import { APPROVALS_SOCKET_FILE } from '../keystore/keystore-files.js';
import { SignerError } from '../signer-error.js';

/**
 * Longest UNIX socket path, in bytes: `sun_path` holds 108 bytes on Linux and 104 on macOS and the
 * BSDs, one of them the terminating NUL.
 */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

/**
 * The approvals socket of a keystore: `<keystore>/approvals.sock`, absolute. Throws
 * APPROVALS_SOCKET_PATH_TOO_LONG, naming the path and the limit, when a socket cannot have that path.
 */
export function approvalsSocketPath(keystoreDir: string): string {
  const path = join(resolve(keystoreDir), APPROVALS_SOCKET_FILE);
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new SignerError(
      'APPROVALS_SOCKET_PATH_TOO_LONG',
      `the approvals socket ${path} would be ${bytes} bytes long; a UNIX socket path holds at most ${MAX_SOCKET_PATH_BYTES}: ` +
        `move the keystore to a shorter path (or reach it through a shorter symbolic link)`,
    );
  }
  return path;
}
