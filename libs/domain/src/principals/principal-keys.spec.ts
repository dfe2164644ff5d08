import { describe, expect, it } from 'vitest';
import { apiKeyFingerprint, apiKeyHash, looksLikeApiKey, newApiKey } from './principal-keys.js';

describe('API keys', () => {
  it('are rt_ and 32 random bytes in base64url, a new one each time', () => {
    const keys = new Set(Array.from({ length: 50 }, () => newApiKey()));
    expect(keys.size).toBe(50);
    for (const key of keys) {
      expect(looksLikeApiKey(key)).toBe(true);
      expect(Buffer.from(key.slice(3), 'base64url')).toHaveLength(32);
    }
  });

  it('are stored as their SHA-256 and named by its first 16 hex digits', () => {
    // sha256("rt_test") computed independently (`printf rt_test | sha256sum`).
    expect(apiKeyHash('rt_test')).toBe('20eb736836a23a9ea82bb7fcc9712777c435f4037407f96ba986b2a1cbfd0fb2');
    expect(apiKeyFingerprint(apiKeyHash('rt_test'))).toBe('20eb736836a23a9e');
  });

  it('tells an API key from anything else', () => {
    for (const token of ['', 'rt_', `rt_${'A'.repeat(42)}`, `rt_${'A'.repeat(44)}`, `xx_${'A'.repeat(43)}`, `rt_${'+'.repeat(43)}`, 'test-admin-token-0123456789']) {
      expect(looksLikeApiKey(token), token).toBe(false);
    }
  });
});
