import type { z } from 'zod';
import {
  AuditBundleQuery,
  AuditBundleResponse,
  AuditCheckpointResponse,
  AuditConsistencyProofResponse,
  AuditConsistencyQuery,
  AuditExportQuery,
  AuditInclusionProofResponse,
  AuditInclusionQuery,
  AuditLogKeyResponse,
  AuditWitnessesResponse,
} from './audit-log.js';
import { AuditPageResponse, AuditQuery, AuditVerifyResponse } from './audit.js';
import { CeremonyListResponse, CeremonyResponse, ListCeremoniesQuery, StartCeremonyBody } from './ceremonies.js';
import { IdParam } from './common.js';
import { ConsoleSessionResponse, CreateConsoleSessionBody, EndConsoleSessionResponse } from './console-session.js';
import { CreateGrantBody, CreateGrantRequestBody, GrantListResponse, GrantResponse, ListGrantsQuery, RevokeGrantBody } from './grants.js';
import { HealthResponse } from './health.js';
import { KeyListResponse, KeyResponse, RegisterKeyBody } from './keys.js';
import { EnrollNodeBody, NodeListResponse, NodeResponse } from './nodes.js';
import { CreatePrincipalBody, CreatePrincipalResponse, PrincipalListResponse, PrincipalResponse, type PrincipalRole } from './principals.js';
import {
  CancelSigningRequestBody,
  CreateSigningRequestBody,
  GetSigningRequestQuery,
  ListSigningRequestsQuery,
  SigningRequestListResponse,
  SigningRequestResponse,
} from './signing-requests.js';
import { CreateWebhookBody, CreateWebhookResponse, WebhookListResponse, WebhookResponse, WebhookViewResponse } from './webhooks.js';

/** Who may call a route: `public` (no token), or the roles besides admin (an admin may call every route). */
export type RouteAccess = 'public' | readonly Exclude<PrincipalRole, 'admin'>[];

/** A JSON response of a route, by its schema. */
export interface JsonResponse<S extends z.ZodType = z.ZodType> {
  description: string;
  schema: S;
}
/** A response that is not JSON (text, a stream, a page), named by its media type. */
export interface MediaResponse {
  description: string;
  mediaType: string;
}
export type RouteResponse = JsonResponse | MediaResponse;

/**
 * One route of the REST API: what the OpenAPI document describes, what the coordinator's router serves
 * (test/openapi.e2e-spec.ts compares them) and what the SDK (libs/sdk) calls. `path` is spelled as Nest's
 * router spells it (`/v1/nodes/:id`).
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  summary: string;
  tag: string;
  access: RouteAccess;
  body?: z.ZodType;
  query?: z.ZodObject;
  /** Path parameters: every `:name` of the path. */
  params?: Record<string, z.ZodType>;
  /** Success responses by status; every route also answers ErrorResponse (see the document's `default`). */
  responses: Record<number, RouteResponse>;
  /** The error statuses this route is known to answer besides 400, 401, 403, 500 and 503. */
  errors?: readonly number[];
}

const id = { id: IdParam };
const json = <S extends z.ZodType>(description: string, schema: S): JsonResponse<S> => ({ description, schema });
const media = (description: string, mediaType: string): MediaResponse => ({ description, mediaType });

/**
 * The REST API, defined once, keyed by operation id (the OpenAPI document's `operationId`, the SDK's
 * method name). Every route the coordinator serves over HTTP besides the node WebSocket endpoint
 * (docs/protocol.md). A new route goes here and in test/roles.e2e-spec.ts's table, and nowhere else by
 * hand: test/openapi.e2e-spec.ts fails while the router and this table disagree.
 */
export const API = {
  health: { method: 'GET', path: '/health', tag: 'operations', summary: 'Liveness and readiness (the database answers)', access: 'public', responses: { 200: json('up', HealthResponse) } },
  metrics: { method: 'GET', path: '/metrics', tag: 'operations', summary: 'Prometheus metrics (text exposition format)', access: 'public', responses: { 200: media('metrics', 'text/plain; version=0.0.4') } },
  openApiDocument: { method: 'GET', path: '/openapi.json', tag: 'operations', summary: 'This document', access: 'public', responses: { 200: media('the OpenAPI 3.1 document', 'application/json') } },
  apiReference: { method: 'GET', path: '/docs', tag: 'operations', summary: 'A readable reference of this document', access: 'public', responses: { 200: media('an HTML page', 'text/html') } },
  // nodes
  enrollNode: { method: 'POST', path: '/v1/nodes', tag: 'nodes', summary: 'Enroll a signer node by its identity key', access: [], body: EnrollNodeBody, responses: { 201: json('enrolled', NodeResponse) }, errors: [409] },
  listNodes: { method: 'GET', path: '/v1/nodes', tag: 'nodes', summary: 'List nodes', access: ['auditor'], responses: { 200: json('nodes', NodeListResponse) } },
  getNode: { method: 'GET', path: '/v1/nodes/:id', tag: 'nodes', summary: 'A node', access: ['auditor'], params: id, responses: { 200: json('the node', NodeResponse) }, errors: [404] },
  revokeNode: { method: 'POST', path: '/v1/nodes/:id/revoke', tag: 'nodes', summary: 'Revoke a node (disconnects it)', access: [], params: id, responses: { 200: json('revoked', NodeResponse) }, errors: [404, 409] },
  restoreNode: { method: 'POST', path: '/v1/nodes/:id/restore', tag: 'nodes', summary: 'Restore a revoked node', access: [], params: id, responses: { 200: json('restored', NodeResponse) }, errors: [404, 409] },
  // keys
  registerKey: { method: 'POST', path: '/v1/keys', tag: 'keys', summary: 'Register a dealt key', access: [], body: RegisterKeyBody, responses: { 201: json('registered', KeyResponse) }, errors: [404, 409] },
  listKeys: { method: 'GET', path: '/v1/keys', tag: 'keys', summary: 'List keys', access: ['proposer', 'auditor'], responses: { 200: json('keys', KeyListResponse) } },
  getKey: { method: 'GET', path: '/v1/keys/:id', tag: 'keys', summary: 'A key', access: ['proposer', 'auditor'], params: id, responses: { 200: json('the key', KeyResponse) }, errors: [404] },
  retireKey: { method: 'POST', path: '/v1/keys/:id/retire', tag: 'keys', summary: 'Retire a key', access: [], params: id, responses: { 200: json('retired', KeyResponse) }, errors: [404, 409] },
  // ceremonies
  startCeremony: { method: 'POST', path: '/v1/ceremonies', tag: 'ceremonies', summary: 'Start a key-generation ceremony', access: [], body: StartCeremonyBody, responses: { 201: json('started', CeremonyResponse) }, errors: [404, 409] },
  listCeremonies: { method: 'GET', path: '/v1/ceremonies', tag: 'ceremonies', summary: 'List ceremonies', access: ['auditor'], query: ListCeremoniesQuery, responses: { 200: json('ceremonies', CeremonyListResponse) } },
  getCeremony: { method: 'GET', path: '/v1/ceremonies/:id', tag: 'ceremonies', summary: 'A ceremony', access: ['auditor'], params: id, responses: { 200: json('the ceremony', CeremonyResponse) }, errors: [404] },
  // audit
  listAuditEntries: { method: 'GET', path: '/v1/audit', tag: 'audit', summary: 'Audit entries (keyset paging)', access: ['auditor'], query: AuditQuery, responses: { 200: json('a page of entries', AuditPageResponse) } },
  verifyAuditChain: { method: 'GET', path: '/v1/audit/verify', tag: 'audit', summary: 'Recompute the hash chain', access: ['auditor'], responses: { 200: json('the verdict', AuditVerifyResponse) } },
  exportAuditLog: {
    method: 'GET',
    path: '/v1/audit/export',
    tag: 'audit',
    summary: 'Every matching entry, streamed as JSON lines or CSV',
    access: ['auditor'],
    query: AuditExportQuery,
    responses: { 200: media('one entry per line (format=jsonl), or CSV with a header row (format=csv)', 'application/x-ndjson') },
  },
  getAuditLogKey: { method: 'GET', path: '/v1/audit/log-key', tag: 'audit', summary: "The transparency log's public key (all an offline verifier needs)", access: 'public', responses: { 200: json('the log key', AuditLogKeyResponse) }, errors: [404] },
  getAuditCheckpoint: { method: 'GET', path: '/v1/audit/checkpoint', tag: 'audit', summary: 'The latest signed checkpoint (C2SP tlog-checkpoint)', access: ['auditor'], responses: { 200: json('the checkpoint', AuditCheckpointResponse) }, errors: [404] },
  getAuditInclusionProof: { method: 'GET', path: '/v1/audit/proof/inclusion', tag: 'audit', summary: "An entry's inclusion proof in a tree of a given size", access: ['auditor'], query: AuditInclusionQuery, responses: { 200: json('the proof', AuditInclusionProofResponse) } },
  getAuditConsistencyProof: { method: 'GET', path: '/v1/audit/proof/consistency', tag: 'audit', summary: 'A consistency proof between two tree sizes', access: ['auditor'], query: AuditConsistencyQuery, responses: { 200: json('the proof', AuditConsistencyProofResponse) } },
  getAuditWitnesses: { method: 'GET', path: '/v1/audit/witnesses', tag: 'audit', summary: 'The signer nodes as witnesses: the size each cosigned, and refusals', access: ['auditor'], responses: { 200: json('the witnesses', AuditWitnessesResponse) }, errors: [404] },
  getAuditBundle: { method: 'GET', path: '/v1/audit/bundle', tag: 'audit', summary: 'Entries with a checkpoint and their inclusion proofs, for the offline verifier', access: ['auditor'], query: AuditBundleQuery, responses: { 200: json('the bundle', AuditBundleResponse) }, errors: [409] },
  // principals
  createPrincipal: { method: 'POST', path: '/v1/principals', tag: 'principals', summary: 'Create a principal and its API key (shown once)', access: [], body: CreatePrincipalBody, responses: { 201: json('created', CreatePrincipalResponse) }, errors: [409] },
  listPrincipals: { method: 'GET', path: '/v1/principals', tag: 'principals', summary: 'List principals', access: [], responses: { 200: json('principals', PrincipalListResponse) } },
  getPrincipal: { method: 'GET', path: '/v1/principals/:id', tag: 'principals', summary: 'A principal', access: [], params: id, responses: { 200: json('the principal', PrincipalResponse) }, errors: [404] },
  revokePrincipal: { method: 'POST', path: '/v1/principals/:id/revoke', tag: 'principals', summary: 'Revoke a principal and its API key', access: [], params: id, responses: { 200: json('revoked', PrincipalResponse) }, errors: [404] },
  // signing requests
  createSigningRequest: {
    method: 'POST',
    path: '/v1/signing-requests',
    tag: 'signing-requests',
    summary: 'Create a signing request (idempotent with Idempotency-Key)',
    access: ['proposer'],
    body: CreateSigningRequestBody,
    responses: { 201: json('created', SigningRequestResponse), 200: json('an idempotency key replayed: the original request', SigningRequestResponse) },
    errors: [404, 409, 422],
  },
  listSigningRequests: { method: 'GET', path: '/v1/signing-requests', tag: 'signing-requests', summary: 'List signing requests, newest first', access: ['proposer', 'auditor'], query: ListSigningRequestsQuery, responses: { 200: json('requests', SigningRequestListResponse) } },
  getSigningRequest: {
    method: 'GET',
    path: '/v1/signing-requests/:id',
    tag: 'signing-requests',
    summary: 'A signing request (long-poll with waitMs)',
    access: ['proposer', 'auditor'],
    params: id,
    query: GetSigningRequestQuery,
    responses: { 200: json('the request', SigningRequestResponse) },
    errors: [404],
  },
  cancelSigningRequest: {
    method: 'POST',
    path: '/v1/signing-requests/:id/cancel',
    tag: 'signing-requests',
    summary: 'Cancel a request that has not finished',
    access: ['proposer'],
    params: id,
    body: CancelSigningRequestBody,
    responses: { 200: json('cancelled', SigningRequestResponse) },
    errors: [404, 409],
  },
  // session-key grants
  createGrant: { method: 'POST', path: '/v1/grants', tag: 'grants', summary: 'Propose a session-key grant', access: ['proposer'], body: CreateGrantBody, responses: { 201: json('proposed', GrantResponse) }, errors: [404, 409] },
  listGrants: { method: 'GET', path: '/v1/grants', tag: 'grants', summary: 'List grants', access: ['proposer', 'auditor'], query: ListGrantsQuery, responses: { 200: json('grants', GrantListResponse) } },
  getGrant: { method: 'GET', path: '/v1/grants/:id', tag: 'grants', summary: 'A grant with its usage', access: ['proposer', 'auditor'], params: id, responses: { 200: json('the grant', GrantResponse) }, errors: [404] },
  revokeGrant: { method: 'POST', path: '/v1/grants/:id/revoke', tag: 'grants', summary: 'Revoke a grant', access: ['proposer'], params: id, body: RevokeGrantBody, responses: { 200: json('revoked', GrantResponse) }, errors: [404, 409] },
  createGrantRequest: {
    method: 'POST',
    path: '/v1/grants/:id/requests',
    tag: 'grants',
    summary: "An agent's signing request under a grant (authenticated by the session key's signature)",
    access: 'public',
    params: id,
    body: CreateGrantRequestBody,
    responses: { 201: json('created', SigningRequestResponse) },
    errors: [403, 404, 409, 422],
  },
  // the web console's session (cookie auth: docs/protocol.md §11)
  createConsoleSession: {
    method: 'POST',
    path: '/v1/console/session',
    tag: 'console',
    summary: 'Sign in to the web console with an API key (sets the rt_console cookie)',
    access: 'public',
    body: CreateConsoleSessionBody,
    responses: { 201: json('signed in', ConsoleSessionResponse) },
    errors: [401],
  },
  getConsoleSession: { method: 'GET', path: '/v1/console/session', tag: 'console', summary: 'The console session of the cookie', access: ['proposer', 'auditor'], responses: { 200: json('the session', ConsoleSessionResponse) } },
  endConsoleSession: { method: 'POST', path: '/v1/console/session/end', tag: 'console', summary: 'Sign out of the console (clears the cookie)', access: ['proposer', 'auditor'], responses: { 200: json('ended', EndConsoleSessionResponse) } },
  // webhooks: admin only
  createWebhook: { method: 'POST', path: '/v1/webhooks', tag: 'webhooks', summary: 'Subscribe a URL to events (its signing secret is shown once)', access: [], body: CreateWebhookBody, responses: { 201: json('created', CreateWebhookResponse) } },
  listWebhooks: { method: 'GET', path: '/v1/webhooks', tag: 'webhooks', summary: 'List webhooks', access: [], responses: { 200: json('webhooks', WebhookListResponse) } },
  getWebhook: { method: 'GET', path: '/v1/webhooks/:id', tag: 'webhooks', summary: 'A webhook and its latest deliveries', access: [], params: id, responses: { 200: json('the webhook', WebhookViewResponse) }, errors: [404] },
  disableWebhook: { method: 'POST', path: '/v1/webhooks/:id/disable', tag: 'webhooks', summary: 'Disable a webhook (pending deliveries fail)', access: [], params: id, responses: { 200: json('disabled', WebhookResponse) }, errors: [404] },
} as const satisfies Record<string, RouteSpec>;

export type Api = typeof API;
export type OperationId = keyof Api;

/** Every route of the API with its operation id, in the table's order. */
export const API_ROUTES: readonly (RouteSpec & { operationId: OperationId })[] = (Object.entries(API) as [OperationId, RouteSpec][]).map(
  ([operationId, route]) => ({ operationId, ...route }),
);

/** `METHOD /path` as Nest's router names a route. */
export const routeName = (r: Pick<RouteSpec, 'method' | 'path'>): string => `${r.method} ${r.path}`;
