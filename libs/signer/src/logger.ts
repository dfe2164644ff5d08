/**
 * The logging surface the signer needs. pino's Logger satisfies it; the library itself does not
 * depend on pino so that an embedding process can bring its own.
 */
export interface SignerLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

const ignore = (): void => undefined;

export const silentLogger: SignerLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** A short, loggable form of an unknown thrown value. */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}
