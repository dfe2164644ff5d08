import type { CeremonyAbortFrame } from '#protocol';
import { describeError } from '../logger.js';

export type CeremonyAbortCode = CeremonyAbortFrame['code'];

const MAX_REASON = 500;
const clip = (s: string) => (s.length > MAX_REASON ? `${s.slice(0, MAX_REASON - 3)}...` : s);

/** Thrown by the participant when it stops the ceremony: becomes a `ceremony.abort` frame. */
export class CeremonyAbortError extends Error {
  constructor(
    readonly code: CeremonyAbortCode,
    message: string,
    readonly culprit?: string,
  ) {
    super(clip(message));
    this.name = 'CeremonyAbortError';
  }
}

/** Stops the ceremony: throws the CeremonyAbortError that becomes the node's `ceremony.abort`. */
export function abort(code: CeremonyAbortCode, reason: string, culprit?: string): never {
  throw new CeremonyAbortError(code, reason, culprit);
}

/** Any error as a CeremonyAbortError (an unexpected one is INTERNAL). */
export const asAbort = (e: unknown): CeremonyAbortError =>
  e instanceof CeremonyAbortError ? e : new CeremonyAbortError('INTERNAL', `internal error: ${describeError(e)}`);
