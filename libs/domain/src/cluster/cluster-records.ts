import type { CoordinatorFrame, Outgoing } from '#protocol';

/**
 * Several coordinator instances on one PostgreSQL (migration 0014, docs/protocol.md §3.5). What the
 * instances share lives here, in the database: which instances are alive, which holds each node's
 * connection, frames on their way to another instance's node, and which node was asked for a commitment
 * on which connection. Nothing correctness depends on lives only in one process.
 */

/** One running coordinator process, kept alive by its heartbeat. */
export interface InstanceRecord {
  id: string;
  pid: number;
  host: string;
  startedAt: Date;
  heartbeatAt: Date;
}

/** The instance holding a node's live, authenticated connection; `connectionId` is unique across instances. */
export interface PresenceRecord {
  nodeId: string;
  instanceId: string;
  connectionId: string;
  since: Date;
}

/** What a relayed row asks the holding instance to do on the node's connection. */
export type RelayedBody = { frame: Outgoing<CoordinatorFrame> } | { disconnect: { code: number; reason: string } };

export interface RelayedFrame {
  instanceId: string;
  nodeId: string;
  /** The connection the frame was meant for: a replaced connection's frames are dropped. */
  connectionId: string;
  body: RelayedBody;
}

export interface ClusterRepository {
  /**
   * Registers the instance and returns the other instances alive at `liveSince` (heartbeat after it and,
   * with `byLock`, their liveness lock held: see instanceLockSql). Registrations are serialized by an
   * advisory lock, so two instances starting together see each other.
   */
  register(instance: InstanceRecord, liveSince: Date, byLock?: boolean): Promise<InstanceRecord[]>;
  /** Refreshes the heartbeat; false when the row is gone (another instance took it for dead). */
  heartbeat(instanceId: string, at: Date): Promise<boolean>;
  /** Deletes the instance with its presence rows and undelivered frames (at shutdown). */
  remove(instanceId: string): Promise<void>;
  /**
   * Deletes every instance whose heartbeat is not after `liveSince`, or (`byLock`) whose liveness lock
   * no session holds (its process's connection is gone: it died), with what it held; returns their ids.
   */
  reap(liveSince: Date, byLock?: boolean): Promise<string[]>;

  /** Records that `instanceId` holds the node's connection (replacing any older row, whichever instance wrote it). */
  bind(presence: PresenceRecord): Promise<void>;
  /** Forgets the connection, unless a newer one of the node has replaced it. */
  release(nodeId: string, connectionId: string): Promise<void>;
  /** The nodes among `nodeIds` connected to an instance alive at `liveSince`. */
  presenceOf(nodeIds: readonly string[], liveSince: Date): Promise<PresenceRecord[]>;

  /**
   * Queues frames for nodes held by other instances and notifies each holder (NOTIFY on its channel). In
   * a transaction, both take effect only if it commits.
   */
  relay(frames: readonly RelayedFrame[]): Promise<void>;
  /** Routes one body to whichever live instance holds the node's connection; false when none does. */
  relayToNode(nodeId: string, body: RelayedBody, liveSince: Date): Promise<boolean>;
  /** Takes (deletes and returns) the frames queued for the instance, oldest first. */
  takeRelayed(instanceId: string, limit: number): Promise<RelayedFrame[]>;

  /** Announces (NOTIFY on SETTLED_CHANNEL, at commit) that the request's final state has committed: other instances' long-polls wake. */
  announceSettled(requestId: string): Promise<void>;

  /** Records who was asked on which connection, and forgets the answered, in one statement each. */
  saveAsks(requestId: string, marks: readonly { nodeId: string; connectionId: string }[], clears: readonly string[], at: Date): Promise<void>;
}

/**
 * The session-level advisory lock an instance holds, on its listener's connection, for as long as it
 * runs (a bigint made of its 64-bit hex id): PostgreSQL releases it the moment that connection is gone,
 * so another instance that can take it knows the holder died, without waiting for its heartbeat to age.
 */
export const instanceLockSql = (idExpression: string): string => `('x' || ${idExpression})::bit(64)::bigint`;

/** NOTIFY channel of one instance's relayed frames (an identifier: instance ids are hex). */
export const relayChannel = (instanceId: string): string => `roundtable_relay_${instanceId}`;
/** NOTIFY channel on which a request's id is announced once its final state has committed. */
export const SETTLED_CHANNEL = 'roundtable_settled';
