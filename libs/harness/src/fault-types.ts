import { EventEmitter } from 'node:events';

/*
 * The vocabulary of fault injection: what a FaultProxy (fault-proxy.ts) can make a signer node do, what
 * it records, and the board its proxies share. The proxy's machinery (relaying, delays, crashes) is there.
 */

/**
 * What a FaultProxy does to the frames of the signer node behind it. Set `proxy.fault` at any
 * time; it applies from the next frame on. Frames before `auth.ok` (the handshake) are always relayed
 * untouched, and coordinator -> node frames are relayed untouched except where a fault says otherwise.
 */
export type Fault =
  /** Relay everything both ways. */
  | { kind: 'none' }
  /**
   * Drop the node's `attempt.share` and `attempt.refuse` frames: it commits (so it is put into attempts)
   * but never answers a signing package. Honest-but-unavailable: must never be blamed.
   */
  | { kind: 'silent' }
  /** Drop everything the node sends after authentication (it stays connected but never commits). */
  | { kind: 'mute' }
  /** Delay every node -> coordinator frame after authentication by `delayMs` (order is kept). */
  | { kind: 'slow'; delayMs: number }
  /**
   * Replace `share` in each `attempt.share` with a different, valid scalar of the suite (share + 1 mod the
   * group order); `nextCommitment` is kept. Expected blame: `invalid_share`.
   */
  | { kind: 'invalid-share' }
  /**
   * Replace `share` in each `attempt.share` with `ff…ff` of the suite's scalar size: it passes the frame
   * schema (right length, lower-case hex) but is not a scalar below the group order. Expected blame:
   * `malformed_share`.
   */
  | { kind: 'malformed-share' }
  /**
   * After relaying the node's share for attempt k of request r, also send a share frame recorded earlier:
   * - `same-request`: the node's latest share frame of another attempt of r, verbatim (nothing is sent
   *   when it has none yet). Expected blame: `unsolicited_frame` (already answered / not pending).
   * - `older-request`: the node's latest share frame of an earlier request, verbatim. That request is
   *   finished: expected `error REQUEST_FINISHED` and no blame.
   * - `older-request-retargeted`: the same frame with `requestId` set to r (an attempt of another
   *   request). Expected blame: `unsolicited_frame`.
   * Each recorded frame is replayed once per request.
   */
  | { kind: 'replay-older'; from: 'same-request' | 'older-request' | 'older-request-retargeted' }
  /**
   * Send, as the node, a share (a random valid scalar) for an attempt of a request it was proposed but is
   * not a participant of. Attempts are learned from the `attempt.package` frames the other proxies on the
   * same {@link AttemptBoard} relay; one such share per request. With `withholdCommitments` the node's own
   * `request.commit` frames are dropped, so it is in no attempt and the first attempt of the request is
   * foreign to it (deterministic); otherwise it takes part normally and waits for an attempt without it.
   * Expected blame: `unsolicited_frame`.
   */
  | { kind: 'foreign-attempt'; withholdCommitments?: boolean }
  /**
   * Right after relaying the node's first `request.commit` of a request, send a second `request.commit`
   * for the same request and identifier with a different, fresh, valid commitment (random points): the
   * node offers different commitments to different attempts. Expected blame: `unsolicited_frame`.
   */
  | { kind: 'equivocate' }
  /**
   * Crash the node once, then the fault returns to `none`:
   * - `propose`: when the coordinator sends a `request.propose` (after auth), it is not delivered;
   * - `package`: when the coordinator sends an `attempt.package`, it is not delivered;
   * - `share`: right after the node's `attempt.share` has been relayed.
   * The proxy then drops everything of that connection, cuts the coordinator connection and calls
   * `onCrash` (which should stop the SignerNode without waiting and start a new one on the same
   * keystore; see the fault cluster), then cuts the node's socket. Honest: must never be blamed.
   */
  | { kind: 'crash'; at: 'propose' | 'package' | 'share' };


/** One frame the proxy saw. `frame` is what was sent on (after a fault changed it), `original` what arrived. */
export interface RecordedFrame {
  /** 1-based number of the node connection it belongs to (a crash or reconnect opens a new one). */
  connection: number;
  direction: 'to-coordinator' | 'to-node';
  at: number;
  frame: WireFrame;
  /** Set when a fault changed the frame before relaying it. */
  original?: WireFrame;
  /** Not relayed (a fault dropped it). */
  dropped?: boolean;
  /** Sent by the proxy itself (a fault or `inject`), not by the node. */
  injected?: boolean;
}

/** A decoded JSON frame (the proxy does not validate schemas: it must be able to send anything). */
export type WireFrame = { type: string; [field: string]: unknown };

export interface CrashEvent {
  at: 'propose' | 'package' | 'share';
  connection: number;
  nodeId?: string;
}

/**
 * Shares the `attempt.package` frames every proxy relays, so a proxy can learn attempts its own node is
 * not part of (fault `foreign-attempt`).
 */
export class AttemptBoard extends EventEmitter<{ package: [WireFrame] }> {
  readonly packages: WireFrame[] = [];
  constructor() {
    super();
    // One listener per node's proxy: a 67-of-100 cluster has a hundred, by design.
    this.setMaxListeners(0);
  }
  publish(frame: WireFrame): void {
    this.packages.push(frame);
    this.emit('package', frame);
  }
}
