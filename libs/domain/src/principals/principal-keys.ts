import { createHash, randomBytes } from 'node:crypto';

/** An API key: `rt_` and 32 random bytes in base64url, so that a leaked one is recognisable (secret scanners). */
export const API_KEY_PATTERN = /^rt_[A-Za-z0-9_-]{43}$/;

/** A new API key: 256 bits from the system's CSPRNG. Shown once, never stored. */
export function newApiKey(): string {
  return `rt_${randomBytes(32).toString('base64url')}`;
}

/** What the database keeps of a key: its SHA-256, hex (a key has 256 bits of entropy: no salt or KDF needed). */
export function apiKeyHash(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

/** A key's public name, for lists and the audit log: the first 16 hex digits of its hash. */
export function apiKeyFingerprint(apiKeyHashHex: string): string {
  return apiKeyHashHex.slice(0, 16);
}

/** Whether a bearer token has the form of an API key (anything else is not looked up). */
export const looksLikeApiKey = (token: string): boolean => API_KEY_PATTERN.test(token);
