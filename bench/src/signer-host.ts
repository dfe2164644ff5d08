import WebSocket from 'ws';
import { authTranscript, decodeCoordinatorFrame, encodeFrame, MAX_FRAME_BYTES, type NodeFrame, type Outgoing } from '#protocol';
import { FaultProxy, type Fault } from '#harness';
import { ApprovalQueue, Keystore, loadNodePolicy, NonceStore, policyFromFlags, SignerNode, SigningService, silentLogger, type KeyShare } from '#signer';

/** What `signer run --approve-all` runs: the real policy engine with one allow rule (its ledger and log in the keystore). */
const allowAll = (keystoreDir: string) => loadNodePolicy({ document: policyFromFlags({ approveAll: true }), stateDir: keystoreDir });

/**
 * Bench-only child process (forked with an IPC channel by bench/src/roast.ts): runs many SignerNodes in
 * this one process, each connected to the coordinator through its own FaultProxy, so that a 100-node
 * benchmark does not need 100 OS processes. The parent sends messages:
 *   { type: 'start', coordinatorUrl, coordinatorId, nodes: [{ index, keystore, passphrase }] } -> { type: 'started' }
 *   { type: 'faults', faults: { [index]: Fault }, gateMs } -> { type: 'faults-set' }
 *   { type: 'stop' } -> { type: 'stopped' }, then the process exits.
 * `gateMs` (optional) holds every node NOT named in `faults` back at the start of a request: its frames
 * are delayed by gateMs (FaultProxy `slow`) until the coordinator sends it a signing package, from when on
 * it relays without delay. The faulty nodes commit first and so land in the first attempt.
 *
 * Two ways to run a node:
 * - `node`: a real SignerNode on its keystore (shares delivered by the dealer into the keystore inbox);
 * - `service`: the signer's real SigningService and NonceStore (nonce journal with its fsyncs, the same
 *   checks of every proposal and package) behind a minimal WebSocket shell, with the share given in
 *   memory (`share`): the coordinator's side without the node's start-up costs (opening the keystore,
 *   checking the share against the public package at import, at start and on the first proposal).
 */
type NodeSpec = { index: number; keystore: string; passphrase: string; share?: KeyShare };
type HostMessage =
  | { type: 'start'; coordinatorUrl: string; coordinatorId: string; nodes: NodeSpec[] }
  | { type: 'faults'; faults: Record<string, Fault>; gateMs?: number }
  | { type: 'stop' };

interface Hosted {
  index: number;
  proxy: FaultProxy;
  node: SignerNode | ServiceNode;
  /** Gated: relay slowly until the next signing package. */
  gated: boolean;
}

const hosted: Hosted[] = [];

/**
 * The signer's SigningService and NonceStore on a keystore's identity and nonce journal, behind one
 * WebSocket (no reconnects: a bench run fails if a connection drops). Frames are handled one at a
 * time, in order, as SignerNode does.
 */
class ServiceNode {
  private ws?: WebSocket;
  private nonces?: NonceStore;
  private inbox: Promise<void> = Promise.resolve();

  constructor(
    private readonly keystoreDir: string,
    private readonly passphrase: string,
    private readonly share: KeyShare,
    private readonly url: string,
    private readonly coordinatorId: string,
  ) {}

  async start(): Promise<void> {
    const keystore = await Keystore.open(this.keystoreDir, { passphrase: this.passphrase });
    const nonces = await NonceStore.open(keystore.nonceJournal);
    this.nonces = nonces;
    const share = this.share;
    const service = new SigningService({
      shares: { findShare: (keyId) => Promise.resolve(keyId.toLowerCase() === share.keyId.toLowerCase() ? share : null) },
      nonces,
      // Every node allows every request (and signs that decision), through the real policy engine.
      policy: await allowAll(this.keystoreDir),
      decisions: keystore,
      approvals: await ApprovalQueue.open(keystore.approvalRecords),
    });
    const ws = new WebSocket(this.url, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    this.ws = ws;
    const send = (frame: Outgoing<NodeFrame>) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame(frame));
    };
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`connection closed (${code}) before auth.ok`)));
      ws.on('message', (data) => {
        const decoded = decodeCoordinatorFrame(data);
        if (!decoded.ok) return;
        const frame = decoded.frame;
        this.inbox = this.inbox
          .then(async () => {
            switch (frame.type) {
              case 'auth.challenge':
                return send({
                  type: 'auth.response',
                  publicKey: keystore.publicKey,
                  signature: keystore.signWithIdentity(authTranscript(this.coordinatorId, frame.challenge)),
                });
              case 'auth.ok':
                return resolve();
              case 'request.propose':
                return send((await service.handlePropose(frame)).frame);
              case 'attempt.package':
                return send((await service.handlePackage(frame)).frame);
              case 'attempt.abort':
                return service.handleAbort(frame);
              case 'request.closed':
                await service.handleClosed(frame);
                return;
              default:
                return;
            }
          })
          .catch((e: unknown) => console.error(`node ${share.identifier}: ${e instanceof Error ? e.message : String(e)}`));
      });
    });
  }

  async stop(): Promise<void> {
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000, 'node stopping');
        setTimeout(() => {
          ws.terminate();
          resolve();
        }, 2000).unref();
      });
    }
    await this.inbox;
    if (this.nonces) {
      await this.nonces.discardAll('shutdown');
      await this.nonces.close();
    }
  }
}

const reply = (message: Record<string, unknown>) => process.send?.(message);

async function start(msg: Extract<HostMessage, { type: 'start' }>): Promise<void> {
  for (const spec of msg.nodes) {
    const proxy = await FaultProxy.start({ target: msg.coordinatorUrl, label: `node-${spec.index + 1}` });
    const node = spec.share
      ? new ServiceNode(spec.keystore, spec.passphrase, spec.share, proxy.url, msg.coordinatorId)
      : new SignerNode({
          keystoreDir: spec.keystore,
          passphrase: spec.passphrase,
          coordinatorUrl: proxy.url,
          coordinatorId: msg.coordinatorId,
          policy: await allowAll(spec.keystore),
          logger: silentLogger,
          reconnect: { initialMs: 100, maxMs: 1000 },
        });
    const entry: Hosted = { index: spec.index, proxy, node, gated: false };
    proxy.on('frame', (r) => {
      if (entry.gated && r.direction === 'to-node' && r.frame.type === 'attempt.package') {
        // Its commitment is in an attempt: from now on it answers without delay.
        entry.gated = false;
        proxy.fault = { kind: 'none' };
      }
    });
    hosted.push(entry);
  }
  // Opening a keystore costs a little scrypt; start them a few at a time.
  for (let i = 0; i < hosted.length; i += 8) await Promise.all(hosted.slice(i, i + 8).map((h) => h.node.start()));
  reply({ type: 'started' });
}

function setFaults(msg: Extract<HostMessage, { type: 'faults' }>): void {
  for (const h of hosted) {
    const fault = msg.faults[String(h.index)];
    if (fault) {
      h.gated = false;
      h.proxy.fault = fault;
    } else if (msg.gateMs && msg.gateMs > 0) {
      h.gated = true;
      h.proxy.fault = { kind: 'slow', delayMs: msg.gateMs };
    } else {
      h.gated = false;
      h.proxy.fault = { kind: 'none' };
    }
  }
  const problems = hosted.flatMap((h) => h.proxy.problems);
  reply({ type: 'faults-set', problems });
}

async function stop(): Promise<void> {
  await Promise.all(hosted.map((h) => h.node.stop()));
  await Promise.all(hosted.map((h) => h.proxy.close()));
  reply({ type: 'stopped' });
  process.disconnect?.();
}

process.on('message', (raw) => {
  const msg = raw as HostMessage;
  const run = async () => {
    switch (msg.type) {
      case 'start':
        return start(msg);
      case 'faults':
        return setFaults(msg);
      case 'stop':
        return stop();
    }
  };
  run().catch((e: unknown) => {
    reply({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  });
});
// Parent gone: nothing to serve.
process.on('disconnect', () => {
  void Promise.all(hosted.map((h) => h.node.stop())).finally(() => process.exit(0));
});
