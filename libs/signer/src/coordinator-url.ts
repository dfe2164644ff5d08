import { SignerError } from './signer-error.js';

/** The coordinator's WebSocket endpoint for signer nodes. */
export const NODE_WS_PATH = '/v1/nodes/ws';

/**
 * Checks a coordinator WebSocket URL and completes a bare origin (`ws://host:port`) with the node
 * endpoint's path. Anything but ws:// or wss:// is refused with a message naming the value.
 */
export function resolveCoordinatorWsUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new SignerError('INVALID_CONFIG', `coordinator URL ${JSON.stringify(input)} is not a valid URL (expected ws://host:port${NODE_WS_PATH})`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new SignerError('INVALID_CONFIG', `coordinator URL ${JSON.stringify(input)} must start with ws:// or wss://`);
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = NODE_WS_PATH;
  return url.toString();
}

/**
 * Checks a comma-separated list of coordinator WebSocket URLs, the instances of one coordinator (one
 * database, one coordinator id) that a node fails over between, each as resolveCoordinatorWsUrl does. A
 * single URL is a list of one. An empty entry or a URL named twice is refused: both are typing mistakes
 * that would otherwise surface only when the node fails over.
 */
export function resolveCoordinatorWsUrls(input: string): string[] {
  const entries = input.split(',').map((entry) => entry.trim());
  if (entries.length > 1 && entries.some((entry) => entry === '')) {
    throw new SignerError(
      'INVALID_CONFIG',
      `coordinator URL list ${JSON.stringify(input)} has an empty entry (expected ws://host:port${NODE_WS_PATH}[,ws://host:port${NODE_WS_PATH}...])`,
    );
  }
  const urls = entries.map(resolveCoordinatorWsUrl);
  const repeated = urls.find((url, i) => urls.indexOf(url) !== i);
  if (repeated !== undefined) throw new SignerError('INVALID_CONFIG', `coordinator URL list ${JSON.stringify(input)} names ${repeated} twice`);
  return urls;
}

/** Checks the coordinator's HTTP base URL (for the admin REST API) and drops a trailing slash. */
export function resolveCoordinatorHttpUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new SignerError('INVALID_CONFIG', `coordinator URL ${JSON.stringify(input)} is not a valid URL (expected http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SignerError('INVALID_CONFIG', `coordinator URL ${JSON.stringify(input)} must start with http:// or https://`);
  }
  return url.toString().replace(/\/+$/, '');
}
