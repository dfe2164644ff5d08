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

/** Room for everything in an `attempt.package` frame but the message and the commitments. */
const PACKAGE_OVERHEAD_BYTES = 1024;

/** Encoded sizes of a suite's identifiers and group elements, in bytes. */
export interface EncodingSizes {
  identifierBytes: number;
  elementBytes: number;
}

/**
 * True when an `attempt.package` for a `messageBytes`-byte message and `signers` commitments fits in one
 * frame. A commitment's JSON is its three hex strings plus at most 48 bytes of names and punctuation.
 */
export function packageFits(messageBytes: number, signers: number, sizes: EncodingSizes): boolean {
  const commitmentJson = 2 * sizes.identifierBytes + 4 * sizes.elementBytes + 48;
  return messageBytes * 2 + signers * commitmentJson + PACKAGE_OVERHEAD_BYTES <= MAX_FRAME_BYTES;
}
