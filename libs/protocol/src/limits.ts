/** Largest WebSocket frame either side accepts, in bytes; larger frames close the socket with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;
/**
 * Largest message a signing request may carry, in bytes. A request is also refused when its signing
 * package (hex message plus t commitments) would not fit in one frame: see `packageFits`.
 */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** Largest signer set a key may have; bounds every list in a frame. */
export const MAX_SIGNERS = 255;
/** How long a node has to answer the authentication challenge. */
export const AUTH_CHALLENGE_TTL_MS = 10_000;

/** Generous upper bound of one commitment's JSON in a package (ed448-sized elements, quotes, keys). */
const COMMITMENT_JSON_BYTES = 400;
/** Room for everything else in an `attempt.package` frame (ids, deadline, field names). */
const PACKAGE_OVERHEAD_BYTES = 1024;

/** True when an `attempt.package` for `messageBytes` bytes and `signers` commitments fits in one frame. */
export function packageFits(messageBytes: number, signers: number): boolean {
  return messageBytes * 2 + signers * COMMITMENT_JSON_BYTES + PACKAGE_OVERHEAD_BYTES <= MAX_FRAME_BYTES;
}
