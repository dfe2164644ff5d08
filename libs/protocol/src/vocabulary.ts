/**
 * The names every side uses for the states and events of the system, defined once: the domain's records,
 * the REST contract (libs/api), the audit log and the CLIs all take them from here, so no list can drift
 * from another. Pure data: no zod, no logic.
 */

export const NODE_STATUSES = ['active', 'revoked'] as const;
export const KEY_STATUSES = ['active', 'retired'] as const;
export const REQUEST_STATUSES = ['pending', 'committing', 'signing', 'completed', 'failed', 'expired', 'cancelled'] as const;
export const TERMINAL_REQUEST_STATUSES = ['completed', 'failed', 'expired', 'cancelled'] as const;
/**
 * Where each node stands on a request, as the coordinator knows it: not asked yet (`pending`), asked
 * and silent (`proposed`), waiting for its operator (`awaiting_operator`), `approved` or `declined`
 * (with its signed decision when it made one), or `excluded` after misbehaving.
 */
export const NODE_DECISION_STATES = ['pending', 'proposed', 'awaiting_operator', 'approved', 'declined', 'excluded'] as const;
export const ATTEMPT_STATUSES = ['signing', 'completed', 'failed', 'timed_out', 'aborted'] as const;
export const CEREMONY_STATUSES = ['round1', 'round2', 'round3', 'completed', 'failed'] as const;

/** Why a node was excluded from a request (docs/protocol.md §5). */
export const CULPRIT_REASONS = [
  'malformed_share',
  'invalid_share',
  'unresponsive',
  'refused_package',
  'declined',
  'invalid_commitment',
  'reused_commitment',
  'unsolicited_frame',
] as const;

/**
 * Who caused an audit entry: the bootstrap admin token, an API principal, a node, the system, or an agent
 * acting under a session-key grant (actor id `grant:<id>`, migration 0008).
 */
export const ACTOR_KINDS = ['admin', 'principal', 'node', 'system', 'agent'] as const;
/** API roles (docs/protocol.md, Roles). Approving is not a role: it happens on the nodes. */
export const PRINCIPAL_ROLES = ['admin', 'proposer', 'auditor'] as const;

/** Every action the audit log records (docs/protocol.md §11, Audit). */
export const AUDIT_ACTIONS = [
  'node.enrolled',
  'node.revoked',
  'node.restored',
  'node.connected',
  'node.disconnected',
  'node.refused',
  /** The policy hash a node reported at authentication differs from the one it reported before (or is its first). */
  'node.policy_changed',
  'key.registered',
  'key.retired',
  'ceremony.started',
  'ceremony.round1_received',
  'ceremony.round2_received',
  'ceremony.result_received',
  'ceremony.completed',
  'ceremony.failed',
  'request.created',
  'request.proposed',
  'request.declined',
  'request.awaiting_operator',
  'request.approved',
  'request.cancelled',
  'request.rejected',
  /** A decision (or an awaiting notice) the coordinator refused: forged, replayed, contrary, another node's. */
  'decision.refused',
  'principal.created',
  'principal.revoked',
  'commitment.received',
  'attempt.started',
  'attempt.refused',
  'attempt.failed',
  'share.received',
  'share.rejected',
  'signer.excluded',
  'signature.produced',
  'request.failed',
  'request.expired',
  // session-key grants (issue 10)
  'grant.proposed',
  'grant.approved',
  'grant.declined',
  'grant.awaiting_operator',
  'grant.activated',
  'grant.rejected',
  'grant.revoked',
  'grant.expired',
  /** A grant decision, awaiting notice or revocation frame the coordinator refused (forged, another grant's, ...). */
  'grant.decision_refused',
  'grant.request_accepted',
  'grant.request_refused',
  // the web console (issue 11): sign-in with an API key, a refused one, sign-out
  'console.signed_in',
  'console.sign_in_failed',
  'console.signed_out',
] as const;

/** The events a webhook may subscribe to (docs/protocol.md, Webhooks). */
export const WEBHOOK_EVENTS = [
  'request.pending',
  'request.approved',
  'request.completed',
  'request.failed',
  'request.expired',
  'request.rejected',
  'request.cancelled',
  'grant.approved',
  'grant.revoked',
] as const;

/** Actions no longer written whose entries stay in a chain written before ROAST: readable, not filterable. */
export const LEGACY_AUDIT_ACTIONS = ['commitment.rejected', 'attempt.timed_out'] as const;

/** How long one round of a key ceremony may be given, in ms. */
export const CEREMONY_ROUND_MS = { min: 1_000, default: 60_000, max: 600_000 } as const;
