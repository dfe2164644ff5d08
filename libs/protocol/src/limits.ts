/** Largest WebSocket frame either side accepts, in bytes; larger frames close the socket with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Largest message a signing request may carry, in bytes (its hex form must fit in one frame). */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** Largest signer set a key may have; bounds every list in a frame. */
export const MAX_SIGNERS = 255;
/** How long a node has to answer the authentication challenge. */
export const AUTH_CHALLENGE_TTL_MS = 10_000;
