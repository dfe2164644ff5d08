import { describe, expect, it } from 'vitest';
import { resolveCoordinatorWsUrls } from './coordinator-url.js';
import { SignerError } from './signer-error.js';

describe('resolveCoordinatorWsUrls', () => {
  it('reads one URL as a list of one, completing a bare origin with the node endpoint', () => {
    expect(resolveCoordinatorWsUrls('ws://host:8080')).toEqual(['ws://host:8080/v1/nodes/ws']);
  });

  it('reads a comma-separated list in order, each URL checked and completed, spaces around commas ignored', () => {
    expect(resolveCoordinatorWsUrls('ws://a:8080/v1/nodes/ws, wss://b:8443 ,ws://c:8080')).toEqual([
      'ws://a:8080/v1/nodes/ws',
      'wss://b:8443/v1/nodes/ws',
      'ws://c:8080/v1/nodes/ws',
    ]);
  });

  it.each([
    ['ws://a:8080,', /empty entry/],
    ['ws://a:8080,,ws://b:8080', /empty entry/],
    ['ws://a:8080,http://b:8080', /"http:\/\/b:8080" must start with ws:\/\/ or wss:\/\//],
    ['ws://a:8080,not a url', /"not a url" is not a valid URL/],
    ['ws://a:8080,ws://a:8080/v1/nodes/ws', /names ws:\/\/a:8080\/v1\/nodes\/ws twice/],
    ['', /is not a valid URL/],
  ])('refuses %j (INVALID_CONFIG)', (input, message) => {
    let error: unknown;
    try {
      resolveCoordinatorWsUrls(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SignerError);
    expect((error as SignerError).code).toBe('INVALID_CONFIG');
    expect((error as SignerError).message).toMatch(message);
  });
});
