import type { SuiteId } from '#crypto';
import { SignerError } from '../signer-error.js';
import { resolveCoordinatorHttpUrl } from '../coordinator-url.js';

/** A node as `GET /v1/nodes` lists it (fields the signer does not use are kept but not typed). */
export interface EnrolledNode {
  id: string;
  label: string;
  publicKey: string;
  status: string;
  [field: string]: unknown;
}

/** The body of `POST /v1/keys`: public material only, never a secret share. */
export interface KeyRegistration {
  id: string;
  suite: SuiteId;
  threshold: number;
  maxSigners: number;
  commitments: string[];
  verifyingShares: Record<string, string>;
  members: { nodeId: string; identifier: string }[];
}

const REQUEST_TIMEOUT_MS = 15_000;

/** The slice of the coordinator's admin REST API the dealer needs. */
export class CoordinatorAdminClient {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly adminToken: string,
  ) {
    this.baseUrl = resolveCoordinatorHttpUrl(baseUrl);
    if (!adminToken) throw new SignerError('INVALID_CONFIG', 'an admin token is required');
  }

  async listNodes(): Promise<EnrolledNode[]> {
    const body = await this.request('GET', '/v1/nodes');
    if (!Array.isArray(body) || !body.every(isEnrolledNode)) {
      throw new SignerError('COORDINATOR_REJECTED', 'GET /v1/nodes returned something other than a list of nodes');
    }
    return body;
  }

  /** Registers a key's public package; returns the coordinator's key record as it sent it. */
  async registerKey(key: KeyRegistration): Promise<unknown> {
    return this.request('POST', '/v1/keys', key);
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const url = `${this.baseUrl}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.adminToken}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      const cause = (e as { cause?: unknown }).cause;
      const detail = cause instanceof Error ? cause.message : (e as Error).message;
      throw new SignerError('COORDINATOR_UNREACHABLE', `${method} ${url} failed: ${detail}`, { cause: e });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const detail =
        typeof error?.code === 'string'
          ? `${error.code}: ${typeof error.message === 'string' ? error.message : ''}`
          : text.slice(0, 300) || response.statusText;
      throw new SignerError('COORDINATOR_REJECTED', `${method} ${path} failed with HTTP ${response.status}: ${detail}`);
    }
    if (json === undefined) {
      throw new SignerError('COORDINATOR_REJECTED', `${method} ${path} returned HTTP ${response.status} without a JSON body`);
    }
    return json;
  }
}

function isEnrolledNode(value: unknown): value is EnrolledNode {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === 'string' && typeof v.publicKey === 'string' && typeof v.status === 'string';
}
