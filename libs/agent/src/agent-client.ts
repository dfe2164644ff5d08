import {
  CreateGrantRequestBody,
  TERMINAL_REQUEST_STATUSES,
  type CreateGrantInput,
  type GrantListResponse,
  type GrantResponse,
  type GrantStatus,
  type ListGrantsQuery,
  type SigningRequestResponse,
} from '#api';
import type { Grantee } from '#protocol';
import { API, ApiError, RoundtableClient, type CallInput, type CallOutput, type OperationId } from '#sdk';
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The client an automated agent uses (issue 10, section 4): propose a grant for its session key, wait
 * until the nodes approved it, then sign and submit requests under it and wait for their signatures.
 * Every call goes through the typed SDK (libs/sdk), so every answer is parsed with its schema from
 * libs/api; every failure is an AgentError carrying the coordinator's code (OVER_BUDGET, GRANT_REVOKED, ...).
 */
export class AgentClient {
  /** With the API key as bearer token (when given); `anonymous` sends none (requests under a grant). */
  private readonly api: RoundtableClient;
  private readonly anonymous: RoundtableClient;
  private readonly keyIds = new Map<string, string>();

  constructor(private readonly options: AgentClientOptions) {
    try {
      const common = { baseUrl: options.coordinatorUrl, timeoutMs: options.httpTimeoutMs ?? 75_000 };
      this.api = new RoundtableClient({ ...common, ...(options.apiKey ? { token: options.apiKey } : {}) });
      this.anonymous = new RoundtableClient(common);
    } catch (e) {
      if (e instanceof ApiError) throw new AgentError(e.code, e.message);
      throw e;
    }
  }

  get sessionKey(): SessionKey {
    return this.options.sessionKey;
  }

  /** `POST /v1/grants`: proposes a grant (for this session key unless `grantee` says otherwise); needs an admin's or a proposer's API key. */
  async proposeGrant(input: ProposeGrantInput): Promise<GrantResponse> {
    const created = await this.call('createGrant', { body: { ...input, grantee: input.grantee ?? this.sessionKey.grantee } });
    this.keyIds.set(created.id, created.keyId);
    return created;
  }

  /** `GET /v1/grants/:id`: its status, approvals, usage against every limit, its requests. */
  async grant(grantId: string): Promise<GrantResponse> {
    const g = await this.call('getGrant', { params: { id: grantId } });
    this.keyIds.set(g.id, g.keyId);
    return g;
  }

  /** `GET /v1/grants`: newest first. */
  grants(query: Partial<ListGrantsQuery> = {}): Promise<GrantListResponse> {
    return this.call('listGrants', { query });
  }

  /** `POST /v1/grants/:id/revoke`: the kill switch (an admin, or the grant's proposer). */
  revokeGrant(grantId: string, reason?: string): Promise<GrantResponse> {
    return this.call('revokeGrant', { params: { id: grantId }, body: reason ? { reason } : {} });
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
    const created = await this.call('createGrantRequest', { params: { id: grant.id }, body: body.data }, false);
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
      const r = await this.call('getSigningRequest', { params: { id: requestId }, query: { waitMs: chunk } });
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

  /**
   * One REST call through the typed SDK (libs/sdk), its answer parsed by the route's schema; the SDK's
   * ApiError becomes an AgentError with the same code, status and details. `bearer: false` for the one
   * call a session key's signature authenticates (a request under a grant).
   */
  private async call<K extends OperationId>(operation: K, input: CallInput<K>, bearer = true): Promise<CallOutput<K>> {
    if (bearer && !this.options.apiKey) {
      const route = API[operation];
      throw new AgentError('INVALID_CONFIG', `${route.method} ${route.path} needs an API key (AgentClientOptions.apiKey)`);
    }
    try {
      return await (bearer ? this.api : this.anonymous).call(operation, input);
    } catch (e) {
      if (e instanceof ApiError) throw new AgentError(e.code, e.message, e.status, e.details);
      throw e;
    }
  }
}
