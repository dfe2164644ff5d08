import type { CommitmentHex, SuiteId } from '#crypto';
import type {
  AttemptRefuseFrame,
  AttemptShareFrame,
  Outgoing,
  RequestAwaitingFrame,
  RequestCommitFrame,
  RequestDeclineFrame,
  SignedDecision,
  UnsignedDecision,
} from '#protocol';
import type { ApprovalQueue } from '../approvals/approval-queue.js';
import type { NodeGrants } from '../grants/node-grants.js';
import type { KeyShare } from '../keystore/keystore-records.js';
import type { SignerLogger } from '../logger.js';
import type { NonceStore } from '../nonces/nonce-store.js';
import type { ApprovedBy, NodePolicy } from '../policy/policy-types.js';
import type { DerivedIntent } from './intent-checks.js';

/**
 * The signing service's contract: what it is built from and what it answers. Apart from the service
 * (signing-service.ts), so that its parts (package-signing.ts, operator-decisions.ts) share the types
 * without importing the class; signing-service.ts re-exports them, callers import them from there.
 */

/** Where the service finds this node's key shares (the keystore, in production). */
export interface ShareSource {
  findShare(keyId: string): Promise<KeyShare | null>;
}

/** Signs the node's decisions with its identity key (the keystore, in production). */
export interface DecisionSigner {
  signDecision(decision: UnsignedDecision): SignedDecision;
}

export interface SigningServiceOptions {
  shares: ShareSource;
  nonces: NonceStore;
  policy: NodePolicy;
  decisions: DecisionSigner;
  /** Proposals the policy answered `ask`, waiting for the operator (durable). */
  approvals: ApprovalQueue;
  /** The session-key grants this node decided on; without them, a request under a grant gets the normal policy. */
  grants?: NodeGrants;
  logger?: SignerLogger;
  now?: () => number;
  /** How long after its deadline an accepted proposal (and its attempts) is still remembered. */
  retainMs?: number;
  /** Most signed or refused attempts remembered, to answer a duplicate package identically. */
  maxRememberedAttempts?: number;
}

export type ProposeOutcome =
  | { kind: 'committed'; frame: Outgoing<RequestCommitFrame> }
  | { kind: 'declined'; frame: Outgoing<RequestDeclineFrame> }
  | { kind: 'awaiting'; frame: Outgoing<RequestAwaitingFrame> };

export type PackageOutcome =
  | { kind: 'signed'; frame: Outgoing<AttemptShareFrame>; replayed: boolean }
  | { kind: 'refused'; frame: Outgoing<AttemptRefuseFrame>; replayed: boolean };

/** A package's outcome, with this node's commitment as the package named it (burned on an abort). */
export interface PackageAnswer {
  outcome: PackageOutcome;
  ownCommitment?: CommitmentHex;
}

/** A proposal this node approved: the intent, what it derived from it, and who approved it. */
export interface AcceptedProposal {
  requestId: string;
  suite: SuiteId;
  threshold: number;
  derived: DerivedIntent;
  decision: SignedDecision;
  approvedBy: ApprovedBy;
}

/** Approved under a session-key grant (rather than by the policy or the operator). */
export const underGrant = (by: ApprovedBy): by is { grantId: string } => typeof by === 'object' && 'grantId' in by;
