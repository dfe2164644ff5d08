import type { RequestGrant } from '#protocol';
import type { PresenceRecord } from '../cluster/cluster-records.js';
import { DomainError } from '../errors.js';
import type { Repositories } from '../ports.js';
import type { AttemptRecord, CommitmentRecord, DecisionRecord, KeyRecord, ShareRecord, SigningRequestRecord } from '../records.js';
import type { RoastView, SignerView } from './roast.js';

/**
 * Everything one event of a signing request works on, read once at its start under the request's row
 * lock and kept up to date by the steps that change it (so nothing is read twice in one event).
 */
export interface RequestState {
  request: SigningRequestRecord;
  key: KeyRecord;
  /** Labels of the key's member nodes, for the reasons people read. */
  labels: ReadonlyMap<string, string>;
  /** Identity public keys (hex) of the key's member nodes, which their signed decisions verify under. */
  identityKeys: ReadonlyMap<string, string>;
  /** Every attempt, in seq order. */
  attempts: AttemptRecord[];
  /** The live (ready or assigned) commitments, oldest first. */
  commitments: CommitmentRecord[];
  /** Every share received, in arrival order. */
  shares: ShareRecord[];
  /** For a request under a session-key grant: what its proposals carry (the grant, its hash, the agent's authorization). */
  grant?: RequestGrant;
  /** Members connected to a live coordinator instance (any of them), by node. */
  presence: Map<string, PresenceRecord>;
  /** Members asked for a commitment, by the connection they were asked on, while their answer is not in. */
  asked: Map<string, string>;
  /** Each member's decision row (proposed, awaiting its operator, decided), by node. */
  decisions: Map<string, DecisionRecord>;
}

/** A key with its members' labels; keys never change once registered (but for status), so they are cached. */
export interface KeyEntry {
  key: KeyRecord;
  labels: ReadonlyMap<string, string>;
  /** Nodes' identity keys never change once enrolled. */
  identityKeys: ReadonlyMap<string, string>;
}

/** Looks keys up through the repositories it is given (a transaction's, when inside one). */
export interface KeyDirectory {
  get(repos: Repositories, keyId: string): Promise<KeyEntry>;
}

/** Keys (public packages, members) never change once registered, but for their status: cached with their members' labels. */
export class KeyCache implements KeyDirectory {
  private readonly entries = new Map<string, KeyEntry>();

  async get(repos: Repositories, keyId: string): Promise<KeyEntry> {
    const cached = this.entries.get(keyId);
    if (cached) return cached;
    const key = await repos.keys.findById(keyId);
    if (!key) throw new DomainError('KEY_NOT_FOUND', `key ${keyId} not found`);
    const nodes = await repos.nodes.listByIds(key.members.map((m) => m.nodeId));
    const entry: KeyEntry = { key, labels: new Map(nodes.map((n) => [n.id, n.label])), identityKeys: new Map(nodes.map((n) => [n.id, n.publicKey])) };
    if (this.entries.size >= 10_000) this.entries.clear();
    this.entries.set(keyId, entry);
    return entry;
  }
}

/**
 * Locks the request's row (SELECT ... FOR UPDATE, the first lock every event takes, so that events of one
 * request are serialized across coordinator instances in one lock order) and reads its state, with where
 * its members are connected (on instances alive at `liveSince`) and who was asked on which connection.
 */
export async function loadRequestState(tx: Repositories, requestId: string, keys: KeyDirectory, liveSince: Date): Promise<RequestState | null> {
  const request = await tx.requests.findByIdForUpdate(requestId);
  if (!request) return null;
  const { key, labels, identityKeys } = await keys.get(tx, request.keyId);
  const reads = await tx.requestState.load(requestId, key.members.map((m) => m.nodeId), liveSince);
  const grant = request.grantId ? await requestGrantOf(tx, request.grantId, requestId) : undefined;
  return {
    request,
    key,
    labels,
    identityKeys,
    attempts: reads.attempts,
    commitments: reads.commitments,
    shares: reads.shares,
    presence: new Map(reads.presence.map((p) => [p.nodeId, p])),
    asked: new Map(reads.asked.map((a) => [a.nodeId, a.connectionId])),
    decisions: new Map(reads.decisions.map((d) => [d.nodeId, d])),
    ...(grant ? { grant } : {}),
  };
}

/** The grant a request was made under, with the agent's authorization of it (grant_nonces). */
async function requestGrantOf(tx: Repositories, grantId: string, requestId: string): Promise<RequestGrant | undefined> {
  const grant = await tx.grants.findById(grantId);
  const nonce = await tx.grants.findNonceForRequest(requestId);
  return grant && nonce ? { grant: grant.grant, grantHash: grant.grantHash, authorization: nonce.authorization } : undefined;
}

/** "ops-1 (3f2c…)": how reasons name a node. */
export function describeNode(state: Pick<RequestState, 'labels'>, nodeId: string): string {
  const label = state.labels.get(nodeId);
  return label ? `${label} (${nodeId})` : nodeId;
}

/** One member as the scheduler sees it: excluded, connected, ready since when, owing which attempt. */
export function signerView(state: RequestState, nodeId: string, connected: boolean): SignerView {
  const ready = state.commitments.find((c) => c.nodeId === nodeId && c.status === 'ready');
  const owed = state.commitments.find((c) => c.nodeId === nodeId && c.status === 'assigned');
  return {
    nodeId,
    excluded: state.request.culprits.some((c) => c.nodeId === nodeId),
    connected,
    ...(ready ? { readySince: ready.receivedAt.getTime() } : {}),
    ...(owed?.attemptId ? { owes: owed.attemptId } : {}),
  };
}

/** The scheduler's view of the state (see roast.ts), given who is connected and the time. */
export function roastView(state: RequestState, connected: (nodeId: string) => boolean, staggerMs: number, now: number): RoastView {
  const signers = state.key.members.map((m) => signerView(state, m.nodeId, connected(m.nodeId)));
  const running = state.attempts
    .filter((a) => a.status === 'signing')
    .map((a) => ({
      id: a.id,
      startedAt: a.startedAt.getTime(),
      lastProgress: Math.max(a.startedAt.getTime(), ...state.shares.filter((s) => s.attemptId === a.id).map((s) => s.receivedAt.getTime())),
    }));
  const unfinished = new Set(state.attempts.filter((a) => a.status !== 'completed').map((a) => a.id));
  const unjudged = state.shares.filter((s) => s.valid === null && unfinished.has(s.attemptId)).map((s) => ({ attemptId: s.attemptId, nodeId: s.nodeId }));
  return { threshold: state.key.threshold, signers, running, unjudged, staggerMs, now };
}
