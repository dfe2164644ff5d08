import type { IncomingMessage } from 'node:http';
import { Inject, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import type { RawData, WebSocket } from 'ws';
import { CeremonyRelay, DomainError, GrantsService, NodeAuthService, SigningService, WitnessService, type FrameOutcome } from '#domain';
import {
  AUTH_CHALLENGE_TTL_MS,
  CloseCode,
  decodeNodeFrame,
  MAX_FRAME_BYTES,
  type ErrorCode,
  type NodeFrame,
} from '#protocol';
import { isDatabaseUnavailable } from '../common/database-errors.js';
import { closeCodeOf } from '../common/error-mapping.js';
import { COORDINATOR_CONFIG, type CoordinatorConfig } from '../config/coordinator-config.js';
import { NodeConnections, type Connection } from './node-connections.js';
import { NODE_WS_PATH } from './node-ws.adapter.js';

/** Ids echoed in an error frame must be UUIDs (a refused frame may carry anything). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Frames a connection may have queued before the coordinator stops reading it as abusive. */
const MAX_QUEUED_FRAMES = 256;

/**
 * The signer nodes' WebSocket endpoint. Thin: decodes every frame with the protocol's schemas,
 * authenticates the connection, hands each frame to one service method, and maps the outcome to an
 * `ack` or a typed `error` frame. Oversized frames are closed by `ws` itself with 1009.
 *
 * Once the coordinator decides to close a connection (a refused authentication, a timeout, too many
 * frames) it reads no further frame from it, so that a peer ignoring the close frame cannot make it
 * verify, audit or answer anything more; the socket is terminated after a short grace.
 */
@WebSocketGateway({ path: NODE_WS_PATH, maxPayload: MAX_FRAME_BYTES })
export class NodeGateway implements OnGatewayConnection, OnGatewayDisconnect, OnApplicationShutdown {
  private readonly logger = new Logger(NodeGateway.name);

  constructor(
    private readonly connections: NodeConnections,
    private readonly auth: NodeAuthService,
    private readonly signing: SigningService,
    private readonly ceremonies: CeremonyRelay,
    private readonly grants: GrantsService,
    private readonly witnesses: WitnessService,
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    const conn = this.connections.open(socket, request.socket.remoteAddress ?? null);
    socket.once('close', (code: number) => {
      const nodeId = this.connections.release(socket);
      if (nodeId) {
        this.auth.recordDisconnect(nodeId, code).catch((e: unknown) => this.logger.warn(`audit of disconnect failed: ${(e as Error).message}`));
      }
    });
    if (this.connections.unauthenticatedFrom(conn.remoteAddress) > this.config.maxUnauthenticatedPerAddress) {
      this.logger.warn(`refused a node connection from ${conn.remoteAddress ?? 'unknown'}: too many unauthenticated connections (MAX_UNAUTHENTICATED_PER_ADDRESS)`);
      this.connections.close(conn, CloseCode.TRY_AGAIN_LATER, 'too many unauthenticated connections from this address');
      return;
    }
    const { state, frame } = this.auth.issueChallenge();
    conn.challenge = state;
    conn.authTimer = setTimeout(() => {
      if (!conn.nodeId) this.connections.close(conn, CloseCode.AUTH_TIMEOUT, 'authentication timed out');
    }, AUTH_CHALLENGE_TTL_MS);
    socket.on('message', (data: RawData) => {
      if (conn.closing) return;
      if (conn.pending >= MAX_QUEUED_FRAMES) {
        this.logger.warn(`closing the connection of ${conn.nodeId ? `node ${conn.nodeId}` : (conn.remoteAddress ?? 'unknown')}: too many unprocessed frames`);
        this.connections.close(conn, CloseCode.TOO_MANY_FRAMES, 'too many unprocessed frames');
        return;
      }
      conn.pending++;
      conn.queue = conn.queue
        .then(() => this.onFrame(conn, data))
        .catch((e: unknown) => this.logger.error(`frame handling failed: ${(e as Error).stack ?? String(e)}`))
        .finally(() => conn.pending--);
    });
    this.connections.sendTo(conn, frame);
  }

  /** Bookkeeping happens in the socket's own 'close' listener, which knows the close code. */
  handleDisconnect(): void {}

  onApplicationShutdown(): void {
    this.connections.closeAll(CloseCode.SHUTTING_DOWN, 'coordinator shutting down');
  }

  private async onFrame(conn: Connection, data: RawData): Promise<void> {
    // Queued before the coordinator decided to close: not read.
    if (conn.closing) return;
    const decoded = decodeNodeFrame(data);
    if (!decoded.ok) {
      const { code, message, frameType, requestId, attemptId } = decoded.error;
      this.logger.warn(`refused a frame from ${this.peer(conn)}: ${code} ${message.slice(0, 200)}`);
      this.sendError(conn, code, message, { inReplyTo: frameType, requestId, attemptId });
      if (!conn.nodeId) this.connections.close(conn, CloseCode.AUTH_REQUIRED, 'authenticate first');
      return;
    }
    const frame = decoded.frame;
    if (!conn.nodeId) {
      await this.authenticate(conn, frame);
      return;
    }
    if (frame.type === 'auth.response') {
      this.sendError(conn, 'UNEXPECTED_FRAME', 'already authenticated', { inReplyTo: frame.type });
      return;
    }
    const ids = frameIds(frame);
    try {
      const outcome = await this.dispatch(conn.nodeId, frame, () => this.connections.isCurrent(conn));
      this.connections.sendTo(conn, { type: 'ack', of: frame.type, ...ids });
      if (outcome === 'duplicate') this.logger.debug(`duplicate ${frame.type} from ${conn.nodeId} acknowledged again`);
    } catch (e) {
      if (e instanceof DomainError) {
        this.logger.warn(`${frame.type} from ${this.peer(conn)} refused: ${e.code} ${e.message.slice(0, 200)}`);
        this.sendError(conn, e.code, e.message, { inReplyTo: frame.type, ...ids });
        return;
      }
      if (isDatabaseUnavailable(e)) {
        this.sendError(conn, 'DATABASE_UNAVAILABLE', 'the coordinator cannot reach its database; send the frame again later', { inReplyTo: frame.type, ...ids });
        return;
      }
      this.logger.error(`${frame.type} from ${conn.nodeId}: ${(e as Error).stack ?? String(e)}`);
      this.sendError(conn, 'INTERNAL', 'internal error: sending the frame again is safe', { inReplyTo: frame.type, ...ids });
    }
  }

  private dispatch(nodeId: string, frame: Exclude<NodeFrame, { type: 'auth.response' }>, current: () => boolean): Promise<FrameOutcome> {
    switch (frame.type) {
      case 'request.commit':
        return this.signing.handleCommit(nodeId, frame, current);
      case 'request.decline':
        return this.signing.handleDecline(nodeId, frame, current);
      case 'request.awaiting':
        return this.signing.handleAwaiting(nodeId, frame, current);
      case 'attempt.share':
        return this.signing.handleShare(nodeId, frame, current);
      case 'attempt.refuse':
        return this.signing.handleRefuse(nodeId, frame, current);
      case 'ceremony.round1':
        return this.ceremonies.handleRound1(nodeId, frame);
      case 'ceremony.round2':
        return this.ceremonies.handleRound2(nodeId, frame);
      case 'ceremony.result':
        return this.ceremonies.handleResult(nodeId, frame);
      case 'ceremony.abort':
        return this.ceremonies.handleAbort(nodeId, frame);
      case 'ceremony.query':
        return this.ceremonies.handleQuery(nodeId, frame);
      case 'grant.decision':
        return this.grants.handleDecision(nodeId, frame);
      case 'grant.awaiting':
        return this.grants.handleAwaiting(nodeId, frame);
      case 'grant.revoke':
        return this.grants.handleRevoke(nodeId, frame);
      case 'audit.cosignature':
        return this.witnesses.handleCosignature(nodeId, frame);
      case 'audit.refused':
        return this.witnesses.handleRefused(nodeId, frame);
      default: {
        const unreachable: never = frame;
        return unreachable;
      }
    }
  }

  private async authenticate(conn: Connection, frame: NodeFrame): Promise<void> {
    if (frame.type !== 'auth.response' || !conn.challenge) {
      this.logger.warn(`refused a connection from ${this.peer(conn)}: first frame ${frame.type}, not auth.response`);
      this.sendError(conn, 'AUTH_REQUIRED', 'the first frame must be auth.response', { inReplyTo: frame.type });
      this.connections.close(conn, CloseCode.AUTH_REQUIRED, 'authenticate first');
      return;
    }
    try {
      const node = await this.auth.authenticate(conn.challenge, frame, { remoteAddress: conn.remoteAddress });
      // Timed out (and closed) while the response was being checked.
      if (conn.closing) return;
      if (conn.authTimer) clearTimeout(conn.authTimer);
      // Neither is kept for the connection's life (the cleared Timeout would hold its callback and context).
      conn.authTimer = null;
      conn.challenge = null;
      this.connections.bind(conn, node.id);
      // Before auth.ok: once the node knows it is in, every instance must know where it is.
      await this.connections.announce(conn);
      this.connections.sendTo(conn, { type: 'auth.ok', nodeId: node.id, label: node.label });
      this.logger.log(`node ${node.label} (${node.id}) authenticated`);
      await this.signing.onNodeConnected(node.id);
      await this.ceremonies.onNodeConnected(node.id);
      // Grants proposed again are a courtesy: a failure here must not fail the authentication.
      await this.grants.onNodeConnected(node.id).catch((e: unknown) => this.logger.warn(`grants after node ${node.id} connected: ${(e as Error).message}`));
    } catch (e) {
      if (!(e instanceof DomainError)) {
        this.logger.error(`authentication failed internally: ${(e as Error).stack ?? String(e)}`);
        this.sendError(conn, 'INTERNAL', 'the coordinator could not complete authentication; retry later', { inReplyTo: frame.type });
        this.connections.close(conn, CloseCode.INTERNAL_ERROR, 'internal error');
        return;
      }
      this.logger.warn(`refused the authentication of ${this.peer(conn)} (public key ${frame.publicKey.slice(0, 16)}…): ${e.code} ${e.message}`);
      this.sendError(conn, e.code, e.message, { inReplyTo: frame.type });
      this.connections.close(conn, closeCodeOf(e.code) ?? CloseCode.AUTH_FAILED, e.message.slice(0, 120));
    }
  }

  /** Who is at the other end, for log lines. */
  private peer(conn: Connection): string {
    return conn.nodeId ? `node ${conn.nodeId}` : `unauthenticated ${conn.remoteAddress ?? 'peer'}`;
  }

  private sendError(
    conn: Connection,
    code: ErrorCode,
    message: string,
    ids: {
      inReplyTo?: string | undefined;
      requestId?: string | undefined;
      attemptId?: string | undefined;
      ceremonyId?: string | undefined;
      grantId?: string | undefined;
    },
  ): void {
    this.connections.sendTo(conn, {
      type: 'error',
      code,
      message: message.slice(0, 1000),
      ...(ids.inReplyTo ? { inReplyTo: ids.inReplyTo.slice(0, 64) } : {}),
      ...(ids.requestId && UUID.test(ids.requestId) ? { requestId: ids.requestId } : {}),
      ...(ids.attemptId && UUID.test(ids.attemptId) ? { attemptId: ids.attemptId } : {}),
      ...(ids.ceremonyId && UUID.test(ids.ceremonyId) ? { ceremonyId: ids.ceremonyId } : {}),
      ...(ids.grantId && UUID.test(ids.grantId) ? { grantId: ids.grantId } : {}),
    });
  }
}

/** The ids a node frame names, echoed in its ack or error. */
function frameIds(frame: Exclude<NodeFrame, { type: 'auth.response' }>): { requestId?: string; attemptId?: string; ceremonyId?: string; grantId?: string } {
  return {
    ...('requestId' in frame ? { requestId: frame.requestId } : {}),
    ...('attemptId' in frame ? { attemptId: frame.attemptId } : {}),
    ...('ceremonyId' in frame ? { ceremonyId: frame.ceremonyId } : {}),
    ...('grantId' in frame ? { grantId: frame.grantId } : {}),
  };
}
