/**
 * The REST API's contract, defined once: for every endpoint under /v1 (and /health's body) the schemas
 * of its body, path and query, and of its response. The coordinator parses every input with them and
 * types its response mappers by them; the admin CLI and the tests parse every response with them.
 * Pure: zod and the protocol's primitives only (ids canonicalized, text storable, hex checked).
 */
export * from './audit.js';
export * from './audit-log.js';
export * from './ceremonies.js';
export * from './console-session.js';
export * from './common.js';
export * from './contract.js';
export * from './health.js';
export * from './keys.js';
export * from './nodes.js';
export * from './principals.js';
export * from './signing-requests.js';
export * from './grants.js';
export * from './webhooks.js';
// The vocabulary (statuses, culprit reasons, audit actions) is defined once, in #protocol, for every side.
export {
  ACTOR_KINDS,
  ATTEMPT_STATUSES,
  AUDIT_ACTIONS,
  CEREMONY_ROUND_MS,
  CEREMONY_STATUSES,
  CULPRIT_REASONS,
  KEY_STATUSES,
  LEGACY_AUDIT_ACTIONS,
  NODE_STATUSES,
  PRINCIPAL_ROLES,
  REQUEST_STATUSES,
  TERMINAL_REQUEST_STATUSES,
  WEBHOOK_EVENTS,
} from '#protocol';
