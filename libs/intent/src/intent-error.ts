/** An intent the system cannot derive signed bytes from, or one that breaks an intent rule. */
export class IntentError extends Error {
  override readonly name = 'IntentError';
}
