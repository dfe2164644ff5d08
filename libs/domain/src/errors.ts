import type { ErrorCode } from '#protocol';

/**
 * An error the domain raises on purpose. It carries a stable code and knows nothing of HTTP or
 * WebSocket: each transport maps codes exhaustively (see the coordinator's error mappers).
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

