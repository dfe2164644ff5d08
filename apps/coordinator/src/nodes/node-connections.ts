import { Inject, Injectable, Logger } from '@nestjs/common';
import { WebSocket } from 'ws';
import { STORE, type IssuedChallenge, type NodeLink, type RelayedBody, type RelayedFrame, type Store } from '#domain';
import { CloseCode, encodeFrame, type CoordinatorFrame, type Outgoing } from '#protocol';
import { InstanceRegistry } from '../cluster/instance-registry.js';

/** One WebSocket connection, before and after its node authenticated. */
export interface Connection {
  readonly socket: WebSocket;
  readonly remoteAddress: string | null;
  challenge: IssuedChallenge | null;
  nodeId: string | null;
  /** Set when the node authenticates; unique across instances (`<instance id>.<n>`). */
  connectionId: string | null;
  authenticatedAt: Date | null;
  /** Frames of one connection are handled in arrival order. */
  queue: Promise<void>;
  pending: number;
  authTimer: NodeJS.Timeout | null;
  /** Set once the coordinator decided to close the connection: its further frames are ignored. */
  closing: boolean;
  /** Terminates the socket if the peer does not complete the close in time. */
  closeTimer: NodeJS.Timeout | null;
}

/** How long a peer has to answer our close frame before its socket is terminated (`ws` would wait 30 s). */
export const CLOSE_GRACE_MS = 2_000;

/**
 * The registry of this instance's live node connections, and the NodeLink the domain uses to reach
 * nodes: a node held by another instance (its presence row says which) is reached through the
 * database (relayed_frames, NOTIFY: see cluster/frame-relay.ts). Identity comes from the authenticated
 * connection, never from a frame's payload.
 */
@Injectable()
export class NodeConnections implements NodeLink {
  private readonly logger = new Logger(NodeConnections.name);
  private readonly bySocket = new Map<WebSocket, Connection>();
  private readonly byNode = new Map<string, Connection>();
  /** Connections not (yet) authenticated and not closing, by remote address. */
  private readonly unauthenticated = new Map<string, Set<Connection>>();
  private nextConnectionId = 1;

  constructor(
    private readonly instance: InstanceRegistry,
    @Inject(STORE) private readonly store: Store,
  ) {}

  get instanceId(): string {
    return this.instance.id;
  }

  liveSince(): Date {
    return this.instance.liveSince();
  }

  open(socket: WebSocket, remoteAddress: string | null): Connection {
    const conn: Connection = {
      socket,
      remoteAddress,
      challenge: null,
      nodeId: null,
      connectionId: null,
      authenticatedAt: null,
      queue: Promise.resolve(),
      pending: 0,
      authTimer: null,
      closing: false,
      closeTimer: null,
    };
    this.bySocket.set(socket, conn);
    const key = remoteAddress ?? '';
    const set = this.unauthenticated.get(key) ?? new Set<Connection>();
    set.add(conn);
    this.unauthenticated.set(key, set);
    return conn;
  }

  /** How many connections from `conn`'s address are open and not authenticated, `conn` included. */
  unauthenticatedFrom(remoteAddress: string | null): number {
    return this.unauthenticated.get(remoteAddress ?? '')?.size ?? 0;
  }

  /**
   * Closes a connection and stops reading it: the caller ignores its further frames (`closing`), and the
   * socket is terminated if the peer does not complete the close within CLOSE_GRACE_MS.
   */
  close(conn: Connection, code: number, reason: string): void {
    if (conn.closing) return;
    conn.closing = true;
    this.forgetUnauthenticated(conn);
    if (conn.authTimer) clearTimeout(conn.authTimer);
    conn.socket.close(code, reason);
    conn.closeTimer = setTimeout(() => conn.socket.terminate(), CLOSE_GRACE_MS);
    conn.closeTimer.unref();
  }

  private forgetUnauthenticated(conn: Connection): void {
    const key = conn.remoteAddress ?? '';
    const set = this.unauthenticated.get(key);
    if (!set?.delete(conn)) return;
    if (set.size === 0) this.unauthenticated.delete(key);
  }

  get(socket: WebSocket): Connection | undefined {
    return this.bySocket.get(socket);
  }

  /** Binds the connection to its node; an older connection of the same node is closed. */
  bind(conn: Connection, nodeId: string): void {
    const older = this.byNode.get(nodeId);
    this.forgetUnauthenticated(conn);
    conn.nodeId = nodeId;
    conn.connectionId = `${this.instance.id}.${this.nextConnectionId++}`;
    conn.authenticatedAt = new Date();
    this.byNode.set(nodeId, conn);
    if (older && older !== conn) {
      older.nodeId = null;
      this.close(older, CloseCode.REPLACED, 'another connection authenticated as this node');
    }
  }

  /**
   * Tells every instance that this one holds the connection (its presence row, replacing any other
   * instance's for the node): before the node is asked for anything, since requests' events read it.
   */
  async announce(conn: Connection): Promise<void> {
    if (!conn.nodeId || !conn.connectionId || !conn.authenticatedAt) return;
    await this.store.read.cluster.bind({ nodeId: conn.nodeId, instanceId: this.instance.id, connectionId: conn.connectionId, since: conn.authenticatedAt });
  }

  /** After this instance was taken for dead and registered again: its presence rows were deleted with it. */
  async announceAll(): Promise<void> {
    for (const conn of this.byNode.values()) if (this.isCurrent(conn)) await this.announce(conn);
  }

  /** Forgets a closed socket; returns its node id if it was the node's current connection. */
  release(socket: WebSocket): string | null {
    const conn = this.bySocket.get(socket);
    this.bySocket.delete(socket);
    if (!conn) return null;
    this.forgetUnauthenticated(conn);
    if (conn.authTimer) clearTimeout(conn.authTimer);
    if (conn.closeTimer) clearTimeout(conn.closeTimer);
    if (conn.nodeId && this.byNode.get(conn.nodeId) === conn) {
      this.byNode.delete(conn.nodeId);
      const { nodeId, connectionId } = conn;
      if (connectionId) {
        this.store.read.cluster.release(nodeId, connectionId).catch((e: unknown) => this.logger.warn(`presence of node ${nodeId} not cleared: ${(e as Error).message}`));
      }
      return nodeId;
    }
    return null;
  }

  sendTo(conn: Connection, frame: Outgoing<CoordinatorFrame>): void {
    if (conn.socket.readyState === WebSocket.OPEN) conn.socket.send(encodeFrame(frame));
  }

  send(nodeId: string, frame: Outgoing<CoordinatorFrame>): boolean {
    const conn = this.byNode.get(nodeId);
    if (conn) {
      if (conn.socket.readyState !== WebSocket.OPEN) return false;
      conn.socket.send(encodeFrame(frame));
      return true;
    }
    if (!this.instance.shared) return false;
    this.relay(nodeId, { frame });
    return true;
  }

  /** Routes a body to whichever other instance holds the node (nothing when none does). */
  private relay(nodeId: string, body: RelayedBody): void {
    this.store.read.cluster
      .relayToNode(nodeId, body, this.liveSince())
      .catch((e: unknown) => this.logger.warn(`relay to node ${nodeId} failed: ${(e as Error).message}`));
  }

  /**
   * A frame another instance relayed: delivered only on the connection it was meant for (a connection
   * that has since been replaced is asked again by its own events).
   */
  deliver(relayed: RelayedFrame): void {
    const conn = this.byNode.get(relayed.nodeId);
    if (!conn || conn.connectionId !== relayed.connectionId || !this.isCurrent(conn)) return;
    if ('frame' in relayed.body) this.sendTo(conn, relayed.body.frame);
    else {
      this.logger.log(`closing connection of node ${relayed.nodeId} (relayed): ${relayed.body.disconnect.reason}`);
      this.close(conn, relayed.body.disconnect.code, relayed.body.disconnect.reason);
    }
  }

  async connectedAmong(nodeIds: readonly string[]): Promise<Set<string>> {
    const local = nodeIds.filter((id) => this.isConnected(id));
    if (!this.instance.shared || local.length === nodeIds.length) return new Set(local);
    const remote = await this.store.read.cluster.presenceOf(
      nodeIds.filter((id) => !this.byNode.has(id)),
      this.liveSince(),
    );
    return new Set([...local, ...remote.filter((p) => p.instanceId !== this.instance.id).map((p) => p.nodeId)]);
  }

  /** Whether `conn` is still its node's live connection (not closed, not replaced by a newer one). */
  isCurrent(conn: Connection): boolean {
    return conn.nodeId !== null && this.byNode.get(conn.nodeId) === conn && conn.socket.readyState === WebSocket.OPEN;
  }

  connection(nodeId: string): { id: string; since: Date } | null {
    const conn = this.byNode.get(nodeId);
    if (!conn || conn.socket.readyState !== WebSocket.OPEN || conn.connectionId === null || !conn.authenticatedAt) return null;
    return { id: conn.connectionId, since: conn.authenticatedAt };
  }

  isConnected(nodeId: string): boolean {
    return this.byNode.get(nodeId)?.socket.readyState === WebSocket.OPEN;
  }

  connectedNodeIds(): string[] {
    return [...this.byNode.keys()].filter((id) => this.isConnected(id));
  }

  disconnect(nodeId: string, code: number, reason: string): void {
    const conn = this.byNode.get(nodeId);
    if (!conn) {
      if (this.instance.shared) this.relay(nodeId, { disconnect: { code, reason } });
      return;
    }
    this.logger.log(`closing connection of node ${nodeId}: ${reason}`);
    this.close(conn, code, reason);
  }

  closeAll(code: number, reason: string): void {
    for (const conn of this.bySocket.values()) this.close(conn, code, reason);
  }
}
