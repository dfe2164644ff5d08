/**
 * WebSocket close codes the coordinator uses (4000-4999 is the range RFC 6455 leaves to applications).
 * 1009 (message too big) comes from `ws` itself when a frame exceeds MAX_FRAME_BYTES.
 */
export const CloseCode = {
  /** The node's public key is not enrolled. */
  NODE_UNKNOWN: 4404,
  /** The node was enrolled and has been revoked. */
  NODE_REVOKED: 4403,
  /** The challenge signature did not verify (for this coordinator's id and challenge). */
  AUTH_FAILED: 4401,
  /** The node did not answer the challenge in time. */
  AUTH_TIMEOUT: 4408,
  /** A frame before authentication was not an `auth.response`. */
  AUTH_REQUIRED: 4400,
  /** Another connection authenticated as the same node; the older one is closed. */
  REPLACED: 4409,
  /** The coordinator is shutting down. */
  SHUTTING_DOWN: 4503,
  /** The node sent frames faster than they could be handled (policy violation). */
  TOO_MANY_FRAMES: 1008,
  /** Too many unauthenticated connections from the node's address: try again later (RFC 6455 1013). */
  TRY_AGAIN_LATER: 1013,
  /** The coordinator could not complete the handshake (for example, its database was unavailable). */
  INTERNAL_ERROR: 1011,
  /** The frame was larger than MAX_FRAME_BYTES (set by `ws`). */
  MESSAGE_TOO_BIG: 1009,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
