import type { z } from 'zod';
import {
  CreateGrantRequestBody,
  ErrorResponse,
  GrantListResponse,
  GrantResponse,
  SigningRequestResponse,
  TERMINAL_REQUEST_STATUSES,
  type CreateGrantInput,
  type GrantStatus,
  type ListGrantsQuery,
} from '#api';
import type { Grantee } from '#protocol';
import { AgentError } from './agent-error.js';
import { authorize, grantIntent, type GrantRequestInput } from './grant-request.js';
import type { SessionKey } from './session-key.js';

export interface AgentClientOptions {
  /** The coordinator's base URL (http or https). */
  coordinatorUrl: string;
  /** The agent's session key: the grantee of its grants, the signer of its requests. */
  sessionKey: SessionKey;
  /**
   * A bearer token (an admin's or a principal's API key) for what is not a request under a grant:
   * proposing a grant (admin or proposer), reading grants and signing requests (admin, auditor, or the
   * proposer of the grant). Requests under a grant need none: the session key's signature authenticates them.
   */
  apiKey?: string;
  /** How far ahead of now a request's deadline is set when none is given (default 5 minutes). */
  requestTtlMs?: number;
  /** Each HTTP call's timeout (default 75 s, above the longest long-poll). */
  httpTimeoutMs?: number;
}

/** A proposal as `POST /v1/grants` takes it; the grantee defaults to the client's session key. */
export type ProposeGrantInput = Omit<CreateGrantInput, 'grantee'> & { grantee?: Grantee };

/** A request under a grant: the grant (its id, or the grant as read), what to sign, and optionally when it expires. */
export interface AgentRequestInput extends GrantRequestInput {
  grant: string | { id: string; keyId: string };
  /** Explicit in the body either way: the intent hash the agent signs covers it. Default now + requestTtlMs. */
  deadline?: Date | number;
}

/** A completed signing request: its signature and the group key are set. */
export type SignedRequest = SigningRequestResponse & { status: 'completed'; signature: string; groupPublicKey: string };

export interface WaitOptions {
  /** Give up (AgentError TIMEOUT) after this long; default 60 s. */
  timeoutMs?: number;
}

const MAX_WAIT_MS = 60_000;
const POLL_MS = 200;
const FINAL: readonly string[] = TERMINAL_REQUEST_STATUSES;
const NOT_ACTIVE_YET: readonly GrantStatus[] = ['proposed'];
const segment = (id: string) => encodeURIComponent(id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The client an automated agent uses (issue 10, section 4): propose a grant for its session key, wait
 * until the nodes approved it, then sign and submit requests under it and wait for their signatures.
 * Every answer is parsed with its schema from libs/api; every failure is an AgentError carrying the
 * coordinator's code (OVER_BUDGET, GRANT_REVOKED, ...).
 */
export class AgentClient {
  private readonly baseUrl: string;
  private readonly keyIds = new Map<string, string>();

  constructor(private readonly options: AgentClientOptions) {
    let url: URL;
    try {
      url = new URL(options.coordinatorUrl);
    } catch {
      throw new AgentError('INVALID_CONFIG', `not a URL: ${options.coordinatorUrl}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new AgentError('INVALID_CONFIG', `the coordinator URL must be http(s)://, got ${url.protocol}`);
    }
    this.baseUrl = url.origin;
  }

  get sessionKey(): SessionKey {
    return this.options.sessionKey;
  }

  /** `POST /v1/grants`: proposes a grant (for this session key unless `grantee` says otherwise); needs an admin's or a proposer's API key. */
  async proposeGrant(input: ProposeGrantInput): Promise<GrantResponse> {
    const created = await this.call('POST', '/v1/grants', GrantResponse, { ...input, grantee: input.grantee ?? this.sessionKey.grantee });
    this.keyIds.set(created.id, created.keyId);
    return created;
  }

  /** `GET /v1/grants/:id`: its status, approvals, usage against every limit, its requests. */
  async grant(grantId: string): Promise<GrantResponse> {
    const g = await this.call('GET', `/v1/grants/${segment(grantId)}`, GrantResponse);
    this.keyIds.set(g.id, g.keyId);
    return g;
  }

  /** `GET /v1/grants`: newest first. */
  grants(query: Partial<ListGrantsQuery> = {}): Promise<GrantListResponse> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
    return this.call('GET', `/v1/grants${q.size ? `?${q.toString()}` : ''}`, GrantListResponse);
  }

  /** `POST /v1/grants/:id/revoke`: the kill switch (an admin, or the grant's proposer). */
  revokeGrant(grantId: string, reason?: string): Promise<GrantResponse> {
    return this.call('POST', `/v1/grants/${segment(grantId)}/revoke`, GrantResponse, reason ? { reason } : {});
  }

  /**
   * Polls the grant until at least threshold nodes approved it. A grant that ends otherwise (rejected,
   * revoked, expired) is an AgentError GRANT_NOT_ACTIVE whose details carry the grant.
   */
  async waitUntilActive(grantId: string, { timeoutMs = 60_000 }: WaitOptions = {}): Promise<GrantResponse> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const g = await this.grant(grantId);
      if (g.status === 'active') return g;
      if (!NOT_ACTIVE_YET.includes(g.status)) {
        throw new AgentError('GRANT_NOT_ACTIVE', `grant ${g.id} is ${g.status}${g.revokeReason ? `: ${g.revokeReason}` : ''}`, 0, { grant: g });
      }
      if (Date.now() >= until) throw new AgentError('TIMEOUT', `grant ${g.id} is still ${g.status} after ${timeoutMs} ms`, 0, { grant: g });
      await sleep(POLL_MS);
    }
  }

  /**
   * Signs and submits one request under a grant (`POST /v1/grants/:id/requests`): builds the canonical
   * intent as the coordinator will (proposer `grant:<id>`, the explicit deadline sent), signs
   * `agentRequestText` over its hash with a fresh nonce and the current time, and checks that the
   * request the coordinator made has that very intent hash. A refusal is an AgentError with its code.
   */
  async request(input: AgentRequestInput): Promise<SigningRequestResponse> {
    const grant = typeof input.grant === 'string' ? { id: input.grant.toLowerCase(), keyId: await this.keyIdOf(input.grant) } : input.grant;
    const deadlineMs = input.deadline === undefined ? Date.now() + (this.options.requestTtlMs ?? 300_000) : new Date(input.deadline).getTime();
    const { intentHash } = grantIntent(grant, input, deadlineMs);
    const authorization = await authorize(this.sessionKey, { grantId: grant.id, intentHash });
    const body = CreateGrantRequestBody.safeParse({
      payload: input.payload,
      description: input.description ?? '',
      note: input.note ?? '',
      ...(input.chainId !== undefined ? { chainId: input.chainId } : {}),
      ...(input.sequence !== undefined ? { sequence: input.sequence } : {}),
      deadline: new Date(deadlineMs).toISOString(),
      authorization,
    });
    if (!body.success) throw AgentError.invalid('request', body.error);
    const created = await this.call('POST', `/v1/grants/${segment(grant.id)}/requests`, SigningRequestResponse, body.data, false);
    if (created.intentHash !== intentHash) {
      throw new AgentError('BAD_RESPONSE', `request ${created.id} has intent hash ${created.intentHash}, not the ${intentHash} the agent signed`, 201);
    }
    return created;
  }

  /**
   * Waits until the request is final: its signature once completed; an AgentError with the request's
   * failure code (GRANT_REVOKED, POLICY_DENIED, ...) when it failed, expired or was cancelled.
   */
  async waitForSignature(requestId: string, { timeoutMs = 60_000 }: WaitOptions = {}): Promise<SignedRequest> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const chunk = Math.max(0, Math.min(MAX_WAIT_MS, until - Date.now()));
      const r = await this.call('GET', `/v1/signing-requests/${segment(requestId)}?waitMs=${chunk}`, SigningRequestResponse);
      if (r.status === 'completed' && r.signature !== null && r.groupPublicKey !== null) return r as SignedRequest;
      if (FINAL.includes(r.status)) {
        const code = r.failure?.code ?? (r.status === 'expired' ? 'REQUEST_EXPIRED' : r.status.toUpperCase());
        throw new AgentError(code, `request ${r.id} ${r.status}${r.failure?.reason ? `: ${r.failure.reason}` : ''}`, 0, { request: r });
      }
      if (Date.now() >= until) throw new AgentError('TIMEOUT', `request ${r.id} is still ${r.status} after ${timeoutMs} ms`, 0, { request: r });
    }
  }

  private async keyIdOf(grantId: string): Promise<string> {
    return this.keyIds.get(grantId.toLowerCase()) ?? (await this.grant(grantId)).keyId;
  }

  /** One REST call, its answer parsed with `schema`; errors carry the API's code. */
  private async call<S extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: S, body?: unknown, bearer = true): Promise<z.output<S>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (bearer) {
      if (!this.options.apiKey) throw new AgentError('INVALID_CONFIG', `${method} ${path} needs an API key (AgentClientOptions.apiKey)`);
      headers.authorization = `Bearer ${this.options.apiKey}`;
    }
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.options.httpTimeoutMs ?? 75_000),
      });
    } catch (e) {
      throw new AgentError('UNREACHABLE', `cannot reach the coordinator at ${this.baseUrl}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new AgentError('BAD_RESPONSE', `${method} ${path}: not JSON (${res.status})`, res.status);
    }
    if (!res.ok) {
      const error = ErrorResponse.safeParse(json);
      if (!error.success) throw new AgentError('HTTP_ERROR', `${method} ${path} answered ${res.status}`, res.status);
      throw new AgentError(error.data.error.code, error.data.error.message, res.status, error.data.error.details);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw AgentError.badResponse(`${method} ${path}`, res.status, parsed.error);
    return parsed.data;
  }
}
