import type { CoordinatorFrame, Outgoing, PRINCIPAL_ROLES } from '#protocol';

type PrincipalRole = (typeof PRINCIPAL_ROLES)[number];

/** How services reach connected nodes. Implemented by the coordinator's WebSocket layer. */
export interface NodeLink {
  /** Sends a frame; false when the node has no live authenticated connection. */
  send(nodeId: string, frame: Outgoing<CoordinatorFrame>): boolean;
  isConnected(nodeId: string): boolean;
  /** The node's current authenticated connection: an id (new after every reconnect) and when it authenticated. */
  connection(nodeId: string): { id: number; since: Date } | null;
  connectedNodeIds(): string[];
  /** Closes the node's connection (revocation). */
  disconnect(nodeId: string, code: number, reason: string): void;
}
export const NODE_LINK = Symbol('NODE_LINK');

/** The settings the domain needs, parsed once by the app's config. */
export interface DomainSettings {
  coordinatorId: string;
  /**
   * How long the newest running attempt of a request has before another may start beside it (ROAST).
   * 0 starts a new attempt as soon as t signers are ready, as in the ROAST paper.
   */
  attemptStaggerMs: number;
  /** Deadline of a request that names none. */
  defaultRequestTtlMs: number;
  /** Longest deadline a request may ask for. */
  maxRequestTtlMs: number;
  /** The longest a session-key grant may be valid (validUntil - validAfter); 90 days when absent. */
  maxGrantValidityMs?: number;
}
export const DOMAIN_SETTINGS = Symbol('DOMAIN_SETTINGS');

/**
 * Who is acting, for the audit log: the bootstrap admin token (`admin-token`), an API principal (its id
 * and role), a node, or the coordinator itself.
 */
export type Actor = { kind: 'admin' | 'node' | 'system'; id: string } | { kind: 'principal'; id: string; role: PrincipalRole };
export const SYSTEM_ACTOR: Actor = { kind: 'system', id: 'coordinator' };
