import { CloseCode, authTranscript, type AuthChallengeFrame, type AuthResponseFrame, type Outgoing } from '#protocol';
import { SignerError } from '../signer-error.js';
import type { Phase } from './coordinator-link.js';

/**
 * The node's side of the authentication handshake (docs/protocol.md §2): answer the challenge with the
 * identity key, but only a coordinator that names itself as the operator expects, reporting (and signing)
 * the hash of the policy the node runs; and what each close code the coordinator may end a connection
 * with means for the node.
 */

/** What the node does with an `auth.challenge`. */
export type ChallengeAnswer =
  | { kind: 'respond'; frame: Outgoing<AuthResponseFrame> }
  /** The coordinator is not the one this node was told to trust: stop, never retry. */
  | { kind: 'refuse'; error: SignerError }
  | { kind: 'ignore'; reason: string };

export interface NodeIdentity {
  readonly publicKey: string;
  signWithIdentity(message: Uint8Array): string;
}

export function answerChallenge(
  phase: Phase,
  frame: AuthChallengeFrame,
  identity: NodeIdentity,
  policyHash: string,
  expectedCoordinatorId?: string,
): ChallengeAnswer {
  if (phase !== 'awaiting-challenge') return { kind: 'ignore', reason: `unexpected auth.challenge in phase ${phase}` };
  if (expectedCoordinatorId !== undefined && frame.coordinatorId !== expectedCoordinatorId) {
    return {
      kind: 'refuse',
      error: new SignerError(
        'COORDINATOR_MISMATCH',
        `the coordinator calls itself ${JSON.stringify(frame.coordinatorId)}, not ${JSON.stringify(expectedCoordinatorId)}: refusing to authenticate`,
      ),
    };
  }
  const signature = identity.signWithIdentity(authTranscript(frame.coordinatorId, frame.challenge, policyHash));
  return { kind: 'respond', frame: { type: 'auth.response', publicKey: identity.publicKey, signature, policyHash } };
}

/**
 * Close codes after which retrying cannot help until an operator or admin acts: the error the node
 * stops with, worded so the operator knows what to do. Undefined: reconnect.
 */
export function fatalCloseError(code: number, reason: string, node: { publicKey: string | undefined; keystoreDir: string }): SignerError | undefined {
  const said = reason ? ` (coordinator said: ${reason})` : '';
  const publicKey = node.publicKey ?? 'unknown';
  switch (code) {
    case CloseCode.NODE_UNKNOWN:
      return new SignerError('NODE_UNKNOWN', `the coordinator does not know this node: ask an admin to enroll public key ${publicKey}${said}`);
    case CloseCode.NODE_REVOKED:
      return new SignerError(
        'NODE_REVOKED',
        `the coordinator revoked this node (public key ${publicKey}); enrolling this key again is refused. Two ways back: ` +
          'ask an admin to restore the node (`admin nodes restore <nodeId>`, POST /v1/nodes/<nodeId>/restore; GET /v1/nodes shows its id), ' +
          `or create a new identity with \`signer init --keystore ${node.keystoreDir} --force\` and have its public key enrolled${said}`,
      );
    case CloseCode.AUTH_FAILED:
      return new SignerError('AUTH_FAILED', `the coordinator rejected this node's authentication${said}`);
    case CloseCode.REPLACED:
      // Another process authenticated with this identity. Reconnecting would evict it, and it us, forever.
      return new SignerError(
        'REPLACED',
        `another connection authenticated as this node (public key ${publicKey}); is a second signer running with this keystore?${said}`,
      );
    default:
      return undefined;
  }
}
