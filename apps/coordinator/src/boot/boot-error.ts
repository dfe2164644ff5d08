/** A failure to start that an operator can act on: its message is the one line main prints. */
export class BootError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BootError';
  }
}
