import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { generateIdentity, identitySign, type IdentityKeyPair } from '#crypto';
import { authTranscript, decodeCoordinatorFrame, encodeFrame, MAX_FRAME_BYTES, type NodeFrame, type Outgoing } from '#protocol';

/**
 * Bench-only child process (forked with an IPC channel by bench/src/many-nodes.ts): thousands of
 * lightweight simulated signer nodes in this one process, so that their memory never counts in the
 * coordinator's RSS. Each speaks the real protocol: a WebSocket to /v1/nodes/ws, the `auth.challenge`
 * answered with a real `auth.response` (the node transcript of #protocol signed with its own Ed25519
 * identity, reporting a policy hash as `signer run` does), then it stays connected (`ws` answers pings by
 * itself) and ignores whatever it is offered (audit checkpoints: it is no witness). Messages:
 *   { type: 'identities', count } -> { type: 'identities', publicKeys }
 *   { type: 'connect', wsUrl, coordinatorId, upTo, addresses, concurrency } -> { type: 'connected', ...SwarmStatus }
 *   { type: 'status' } -> { type: 'status', ...SwarmStatus }
 *   { type: 'stop' } -> closes every socket and exits.
 */
export type SwarmMessage =
  | { type: 'identities'; count: number }
  | { type: 'connect'; wsUrl: string; coordinatorId: string; upTo: number; addresses: string[]; concurrency: number }
  | { type: 'status' }
  | { type: 'stop' };

export interface SwarmStatus {
  /** Sockets open and authenticated (auth.ok received) and not closed since. */
  open: number;
  /** Connections that failed to authenticate (after retries), with the first few reasons. */
  failed: number;
  failures: string[];
  /** Authenticated sockets the coordinator closed later, by close code. */
  closedAfterAuth: Record<string, number>;
  /** Frames received after auth.ok, by type. */
  frames: Record<string, number>;
}

export type SwarmReply =
  | ({ type: 'connected' } & SwarmStatus)
  | ({ type: 'status' } & SwarmStatus)
  | { type: 'identities'; publicKeys: string[] }
  | { type: 'error'; message: string };

/** The policy hash the simulated nodes report (a real node reports the SHA-256 of its policy document). */
const POLICY_HASH = createHash('sha256').update('roundtable bench: simulated node, no policy').digest('hex');
const ATTEMPTS = 3;

let identities: IdentityKeyPair[] = [];
const sockets: WebSocket[] = [];
const status: SwarmStatus = { open: 0, failed: 0, failures: [], closedAfterAuth: {}, frames: {} };

const reply = (m: SwarmReply) => process.send?.(m);
const send = (ws: WebSocket, frame: Outgoing<NodeFrame>) => ws.send(encodeFrame(frame));

/** One node: connect, authenticate, resolve on auth.ok; rejects on a close before it. */
function connectOne(identity: IdentityKeyPair, wsUrl: string, coordinatorId: string, localAddress: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, handshakeTimeout: 30_000, localAddress });
    let authenticated = false;
    const fail = (e: Error) => {
      ws.terminate();
      reject(e);
    };
    ws.on('message', (data: Buffer) => {
      const decoded = decodeCoordinatorFrame(data);
      if (!decoded.ok) return fail(new Error(`invalid frame: ${decoded.error.message}`));
      const frame = decoded.frame;
      if (!authenticated && frame.type === 'auth.challenge') {
        if (frame.coordinatorId !== coordinatorId) return fail(new Error(`coordinator calls itself ${frame.coordinatorId}`));
        send(ws, {
          type: 'auth.response',
          publicKey: identity.publicKey,
          signature: identitySign(identity.secretKey, authTranscript(frame.coordinatorId, frame.challenge, POLICY_HASH)),
          policyHash: POLICY_HASH,
        });
      } else if (!authenticated && frame.type === 'auth.ok') {
        authenticated = true;
        status.open++;
        resolve(ws);
      } else if (authenticated) {
        status.frames[frame.type] = (status.frames[frame.type] ?? 0) + 1;
      } else if (frame.type === 'error') {
        fail(new Error(`${frame.code}: ${frame.message}`));
      }
    });
    ws.on('error', (e) => {
      if (!authenticated) fail(e);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (!authenticated) return reject(new Error(`closed ${code} ${reason.toString()} before auth.ok`));
      status.open--;
      status.closedAfterAuth[code] = (status.closedAfterAuth[code] ?? 0) + 1;
    });
  });
}

async function connectUpTo(m: Extract<SwarmMessage, { type: 'connect' }>): Promise<void> {
  let next = sockets.length + status.failed;
  const until = Math.min(m.upTo, identities.length);
  await Promise.all(
    Array.from({ length: m.concurrency }, async () => {
      while (next < until) {
        const i = next++;
        const address = m.addresses[i % m.addresses.length]!;
        for (let attempt = 1; ; attempt++) {
          try {
            sockets.push(await connectOne(identities[i]!, m.wsUrl, m.coordinatorId, address));
            break;
          } catch (e) {
            if (attempt < ATTEMPTS) {
              await new Promise((r) => setTimeout(r, 500 * attempt));
              continue;
            }
            status.failed++;
            if (status.failures.length < 5) status.failures.push(`node ${i}: ${(e as Error).message}`);
            break;
          }
        }
      }
    }),
  );
}

process.on('message', (raw) => {
  const m = raw as SwarmMessage;
  void (async () => {
    try {
      switch (m.type) {
        case 'identities':
          identities = Array.from({ length: m.count }, () => generateIdentity());
          reply({ type: 'identities', publicKeys: identities.map((i) => i.publicKey) });
          return;
        case 'connect':
          await connectUpTo(m);
          reply({ type: 'connected', ...status });
          return;
        case 'status':
          reply({ type: 'status', ...status });
          return;
        case 'stop':
          for (const ws of sockets) ws.terminate();
          process.exit(0);
      }
    } catch (e) {
      reply({ type: 'error', message: (e as Error).message });
    }
  })();
});
