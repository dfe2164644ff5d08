import { ApprovalQueue } from './approvals/approval-queue.js';
import { approvalsHandler, type OperatorVerdict } from './approvals/approvals-handler.js';
import type { ApprovalDecided } from './approvals/approvals-protocol.js';
import { ApprovalsServer } from './approvals/approvals-server.js';
import { NodeCeremonies, type CeremonyEvents, type Reply } from './ceremonies/node-ceremonies.js';
import { GrantFrames, type GrantEvents } from './grants/grant-frames.js';
import { GrantStore } from './grants/grant-store.js';
import { NodeGrants } from './grants/node-grants.js';
import { Keystore } from './keystore/keystore.js';
import type { SignerLogger } from './logger.js';
import { NonceStore, type NonceLimits } from './nonces/nonce-store.js';
import type { NodePolicy } from './policy/policy-types.js';
import { NodeSigning, type SigningEvents } from './signing/node-signing.js';
import { SigningService } from './signing/signing-service.js';
import { NodeWitness, type WitnessEvents } from './witness/node-witness.js';

/** The events the node's parts emit (SignerNode re-emits them, with its own). */
export interface NodePartEvents extends CeremonyEvents, SigningEvents, GrantEvents, WitnessEvents {}

export interface NodePartsOptions {
  keystoreDir: string;
  passphrase: string;
  policy: NodePolicy;
  logger: SignerLogger;
  nonceLimits?: Partial<NonceLimits>;
  acceptCeremonies: boolean;
  /** The node's clock option as given (the stores keep their own default without one). */
  now?: () => number;
  /** The node id from the last `auth.ok`. */
  nodeId: () => string | undefined;
  /** A sender on the current authenticated connection, if there is one. */
  currentReply: () => Reply | undefined;
  /** Runs `work` in the node's frame queue, after the frames already queued. */
  enqueue: (work: () => Promise<void>) => void;
  /** Runs an operator's action in the node's frame queue, with the current connection's sender (SignerNode.byOperator). */
  byOperator: <T>(action: (reply: Reply | undefined) => Promise<T>) => Promise<T>;
  emit: <K extends keyof NodePartEvents>(event: K, ...args: NodePartEvents[K]) => void;
}

/** What SignerNode runs once its keystore is open, and closes at teardown. */
export interface NodeParts {
  keystore: Keystore;
  nonces: NonceStore;
  approvals: ApprovalQueue;
  /** The operator's approvals channel (a UNIX socket in the keystore directory), listening. */
  approvalsServer: ApprovalsServer;
  /** Key generation ceremonies and the unconfirmed shares they stored (`loadPending` not yet run). */
  ceremonies: NodeCeremonies;
  /** The node as a witness of the coordinator's audit log. */
  witness: NodeWitness;
  /** Session-key grants: proposals, the operator's decisions, revocations. */
  grantFrames: GrantFrames;
  signing: NodeSigning;
  /** The keys this node held a share of when it opened. */
  keyIds: string[];
}

/**
 * Opens the keystore (checking every share), imports its inbox, opens the approval queue, the grants and
 * the nonce journal, builds the node's parts on them, and starts the approvals socket. Apart from
 * SignerNode, which runs them (connection, frames, lifecycle): here is only what is built from what.
 * When the socket cannot listen, the journal is closed again before the error is thrown; after that,
 * closing is SignerNode's teardown.
 */
export async function openNodeParts(options: NodePartsOptions): Promise<NodeParts> {
  const { logger, policy } = options;
  const now = options.now ?? Date.now;
  const keystore = await Keystore.open(options.keystoreDir, { passphrase: options.passphrase });
  const delivered = await keystore.importInbox();
  if (delivered.imported.length > 0) logger.info({ keys: delivered.imported }, 'imported sealed shares from the inbox');
  // A refused share concerns one key only: the node still serves the others.
  for (const rejected of delivered.rejected) logger.error({ code: rejected.code }, rejected.message);
  const shares = await keystore.listShares();
  const approvals = await ApprovalQueue.open(keystore.approvalRecords, logger);
  const grantStore = await GrantStore.open(keystore.grantRecords, logger);
  const nonces = await NonceStore.open(keystore.nonceJournal, {
    logger,
    ...(options.nonceLimits ? { limits: options.nonceLimits } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const ceremonies = new NodeCeremonies({
    keystore,
    logger,
    now,
    acceptCeremonies: options.acceptCeremonies,
    nodeId: options.nodeId,
    currentReply: options.currentReply,
    enqueue: options.enqueue,
    emit: <K extends keyof CeremonyEvents>(event: K, ...args: CeremonyEvents[K]) => options.emit(event, ...(args as NodePartEvents[K])),
  });
  const witness = new NodeWitness({
    records: keystore.witnessRecords,
    identity: keystore,
    logger,
    now,
    emit: <K extends keyof WitnessEvents>(event: K, ...args: WitnessEvents[K]) => options.emit(event, ...(args as NodePartEvents[K])),
  });
  const grants = new NodeGrants({ store: grantStore, policy, signer: keystore, logger, now });
  const grantFrames = new GrantFrames(grants, logger, <K extends keyof GrantEvents>(event: K, ...args: GrantEvents[K]) =>
    options.emit(event, ...(args as NodePartEvents[K])),
  );
  const service = new SigningService({
    shares: {
      // A share from a ceremony this node has not seen confirmed is not usable.
      findShare: (keyId) => (ceremonies.isPending(keyId) ? Promise.resolve(null) : keystore.findShare(keyId)),
    },
    nonces,
    policy,
    decisions: keystore,
    approvals,
    grants,
    logger,
    ...(options.now ? { now: options.now } : {}),
  });
  const signing = new NodeSigning(service, logger, <K extends keyof SigningEvents>(event: K, ...args: SigningEvents[K]) =>
    options.emit(event, ...(args as NodePartEvents[K])),
  );
  // The operator's actions run in the node's frame queue, and only once SignerNode holds these parts.
  let approvalsServer: ApprovalsServer;
  try {
    approvalsServer = await ApprovalsServer.listen(
      options.keystoreDir,
      approvalsHandler({
        queue: approvals,
        grants: grantStore,
        now,
        decide: (requestId, decision) => decideByOperator(options, signing, requestId, decision),
        decideGrant: (grantId, decision) => options.byOperator((reply) => grantFrames.operatorDecision(grantId, decision, reply)),
        revokeGrant: (grantId, reason) => options.byOperator((reply) => grantFrames.revoke(grantId, reason, reply)),
      }),
      logger,
    );
  } catch (e) {
    await nonces.close();
    throw e;
  }
  return { keystore, nonces, approvals, approvalsServer, ceremonies, witness, grantFrames, signing, keyIds: shares.map((s) => s.keyId) };
}

/**
 * The operator's approve / reject from the approvals channel, run in the frame queue like a frame (so
 * that it cannot race the coordinator's frames for the same request), answered on the current connection.
 */
function decideByOperator(
  options: Pick<NodePartsOptions, 'byOperator'>,
  signing: NodeSigning,
  requestId: string,
  decision: OperatorVerdict,
): Promise<ApprovalDecided> {
  return options.byOperator(async (reply) => {
    const outcome = await signing.operatorDecision(requestId, decision, reply);
    return { approval: outcome.approval, decision: outcome.decision, sent: outcome.sent };
  });
}
