import type { CoordinatorFrame, Outgoing, PRINCIPAL_ROLES } from '#protocol';

type PrincipalRole = (typeof PRINCIPAL_ROLES)[number];

/**
 * How services reach connected nodes. Implemented by the coordinator's WebSocket layer: a node's
 * connection may be held by this coordinator instance or by another one on the same database (its
 * presence row says which, migration 0014); frames for another instance's node are relayed through the
 * database.
 */
export interface NodeLink {
  /** This process's instance id (coordinator_instances). */
  readonly instanceId: string;
  /**
   * Sends a frame on this instance's connection of the node, or relays it to the instance that holds it
   * (asynchronously). False when this instance's connection of the node is not open, or on the embedded
   * database (one instance) when the node is not connected; a relayed frame is true even if no instance
   * turns out to hold the node (it is then dropped, as a frame for a disconnected node always is).
   */
  send(nodeId: string, frame: Outgoing<CoordinatorFrame>): boolean;
  /** Whether this instance holds the node's live, authenticated connection. */
  isConnected(nodeId: string): boolean;
  /** This instance's connection of the node: an id unique across instances (new after every reconnect) and when it authenticated. */
  connection(nodeId: string): { id: string; since: Date } | null;
  /** Nodes whose live connection this instance holds. */
  connectedNodeIds(): string[];
  /** The nodes among `nodeIds` connected to any live instance (the database's presence rows). */
  connectedAmong(nodeIds: readonly string[]): Promise<Set<string>>;
  /** Presence on an instance whose last heartbeat is not after this instant counts as gone. */
  liveSince(): Date;
  /** Closes the node's connection (revocation), on whichever instance holds it. */
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
