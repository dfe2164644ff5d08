import WebSocket from 'ws';
import { generateIdentity, identitySign, type IdentityKeyPair } from '#crypto';
import {
  authTranscript,
  decodeCoordinatorFrame,
  encodeFrame,
  MAX_FRAME_BYTES,
  type CoordinatorFrame,
  type NodeFrame,
  type Outgoing,
  type RequestProposeFrame,
} from '#protocol';

/**
 * A hand-driven node for adversarial tests: it authenticates like a real node, then sends whatever the
 * test tells it to. Every frame it receives is checked against the protocol's schemas.
 */
export class RawNode {
  readonly frames: CoordinatorFrame[] = [];
  readonly invalidFrames: string[] = [];
  /** Every proposal received, by request id (lower case), kept when `next` takes the frame. */
  readonly proposals = new Map<string, RequestProposeFrame>();
  closeCode: number | null = null;
  closeReason = '';
  private waiters: { match: (f: CoordinatorFrame) => boolean; resolve: (f: CoordinatorFrame) => void }[] = [];
  private closeWaiters: ((code: number) => void)[] = [];

  private constructor(
    readonly socket: WebSocket,
    readonly identity: IdentityKeyPair,
  ) {
    socket.on('message', (data: Buffer) => {
      const decoded = decodeCoordinatorFrame(data);
      if (!decoded.ok) {
        this.invalidFrames.push(String(data));
        return;
      }
      this.frames.push(decoded.frame);
      if (decoded.frame.type === 'request.propose') this.proposals.set(decoded.frame.requestId, decoded.frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(decoded.frame)) return true;
        w.resolve(decoded.frame);
        return false;
      });
    });
    socket.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.closeWaiters.forEach((r) => r(code));
    });
  }

  /** Opens a socket without authenticating. */
  static async open(wsUrl: string, identity: IdentityKeyPair = generateIdentity()): Promise<RawNode> {
    const socket = new WebSocket(wsUrl, { maxPayload: MAX_FRAME_BYTES * 4 });
    const node = new RawNode(socket, identity);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return node;
  }

  /** Opens a socket and answers the challenge with this identity. */
  static async connect(wsUrl: string, identity: IdentityKeyPair = generateIdentity()): Promise<RawNode> {
    const node = await RawNode.open(wsUrl, identity);
    const challenge = await node.next('auth.challenge');
    node.send({
      type: 'auth.response',
      publicKey: identity.publicKey,
      signature: identitySign(identity.secretKey, authTranscript(challenge.coordinatorId, challenge.challenge)),
    });
    return node;
  }

  send(frame: Outgoing<NodeFrame>): void {
    this.socket.send(encodeFrame(frame));
  }

  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** The next frame of `type` (already received ones count) matching `where`. */
  next<T extends CoordinatorFrame['type']>(
    type: T,
    where: (f: Extract<CoordinatorFrame, { type: T }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<CoordinatorFrame, { type: T }>> {
    const match = (f: CoordinatorFrame) => f.type === type && where(f as Extract<CoordinatorFrame, { type: T }>);
    const seen = this.frames.findIndex(match);
    if (seen >= 0) {
      const [f] = this.frames.splice(seen, 1);
      return Promise.resolve(f as Extract<CoordinatorFrame, { type: T }>);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          const i = this.frames.indexOf(f);
          if (i >= 0) this.frames.splice(i, 1);
          resolve(f as Extract<CoordinatorFrame, { type: T }>);
        },
      });
    });
  }

  closed(timeoutMs = 10_000): Promise<number> {
    if (this.closeCode !== null) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}
