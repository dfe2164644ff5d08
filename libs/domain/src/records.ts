import type { CommitmentHex, PublicKeyPackage, SuiteId } from '#crypto';
import {
  AUDIT_ACTIONS,
  CEREMONY_STATUSES,
  REQUEST_STATUSES,
  TERMINAL_REQUEST_STATUSES,
  type ACTOR_KINDS,
  type ATTEMPT_STATUSES,
  type CULPRIT_REASONS,
  type AgentAuthorization,
  type CeremonyParticipant,
  type GRANT_STATUSES,
  type Grant,
  type Intent,
  type KEY_STATUSES,
  type NODE_STATUSES,
  type PRINCIPAL_ROLES,
  type SealedRound2,
  type SignedRound1,
} from '#protocol';

// The vocabulary is defined once, in libs/protocol/src/vocabulary.ts, for every side.
export { AUDIT_ACTIONS, CEREMONY_STATUSES, REQUEST_STATUSES, TERMINAL_REQUEST_STATUSES };

export type NodeStatus = (typeof NODE_STATUSES)[number];
export interface NodeRecord {
  id: string;
  label: string;
  /** Ed25519 identity public key, hex. */
  publicKey: string;
  status: NodeStatus;
  createdAt: Date;
  revokedAt: Date | null;
  lastSeenAt: Date | null;
  /**
   * SHA-256 (hex) of the policy document the node last reported when it authenticated, and when; null
   * until it first reports one (a node built before the report never does). Informational: the node's
   * own account of its policy, signed with its identity key at authentication.
   */
  policyHash: string | null;
  policyReportedAt: Date | null;
}

export type KeyStatus = (typeof KEY_STATUSES)[number];
export interface KeyMember {
  nodeId: string;
  /** FROST identifier (hex) the node holds in this key. */
  identifier: string;
  verifyingShare: string;
}
export interface KeyRecord {
  id: string;
  suite: SuiteId;
  threshold: number;
  maxSigners: number;
  groupPublicKey: string;
  publicPackage: PublicKeyPackage;
  members: KeyMember[];
  status: KeyStatus;
  /** How the key was made: 'dealer' for now, a ceremony id later. */
  origin: string;
  createdAt: Date;
}

export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export const isTerminalRequest = (s: RequestStatus): boolean => (TERMINAL_REQUEST_STATUSES as readonly RequestStatus[]).includes(s);

export type CulpritReason = (typeof CULPRIT_REASONS)[number];
export interface Culprit {
  nodeId: string;
  reason: CulpritReason;
  attemptId?: string;
  detail?: string;
}

export interface SigningRequestRecord {
  id: string;
  keyId: string;
  /**
   * The intent in canonical form (libs/protocol `Intent`): what nodes are proposed and recompute.
   * Requests made before intents existed carry one rebuilt from their message (migration 0005).
   */
  intent: Intent;
  /** `intentHash(intent)`, hex; null only for requests made before intents existed (never proposed again). */
  intentHash: string | null;
  /** Who proposed it: `admin` (the bootstrap token) or `principal:<id>`. */
  proposer: string;
  /** The exact bytes signed, hex: the digest derived from `intent.payload`. */
  message: string;
  /** Legacy short form's encoding: `utf8` for text payloads, `hex` for every other kind. */
  messageEncoding: 'hex' | 'utf8';
  description: string;
  status: RequestStatus;
  deadline: Date;
  idempotencyKey: string | null;
  /** sha256 of the canonical request body, to tell a retried POST from a conflicting one. */
  requestHash: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
  /** Final signature, hex, once completed. */
  signature: string | null;
  failureCode: string | null;
  failureReason: string | null;
  /** Nodes blamed or left out, with why. Excluded from further attempts of this request. */
  culprits: Culprit[];
  attemptCount: number;
  /**
   * Blameless refusals (a restarted node's NONCE_UNKNOWN, ...) made so far, by node id: a node may make
   * a few before it is blamed. Kept with the request so that a coordinator restart does not reset them.
   */
  blamelessRefusals: Record<string, number>;
  /** The session-key grant the request was made under (migration 0008); null or absent otherwise. */
  grantId?: string | null;
}

export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];
export interface AttemptRecord {
  id: string;
  requestId: string;
  /** 1-based position among the request's attempts. */
  seq: number;
  status: AttemptStatus;
  /** Node ids of the selected signers, in commitment-list order. */
  participants: string[];
  /** The signing package's commitment list, sorted by identifier value. */
  commitments: CommitmentHex[];
  deadline: Date;
  startedAt: Date;
  endedAt: Date | null;
  failureReason: string | null;
}

/** ready: offered, unassigned; assigned: in an attempt's list; used: its share arrived; burned: never usable. */
export type CommitmentStatus = 'ready' | 'assigned' | 'used' | 'burned';
export interface CommitmentRecord {
  id: string;
  keyId: string;
  requestId: string;
  nodeId: string;
  identifier: string;
  hiding: string;
  binding: string;
  status: CommitmentStatus;
  attemptId: string | null;
  receivedAt: Date;
}

export interface ShareRecord {
  attemptId: string;
  requestId: string;
  nodeId: string;
  identifier: string;
  share: string;
  /** null until aggregation has judged it. */
  valid: boolean | null;
  receivedAt: Date;
}

export type CeremonyStatus = (typeof CEREMONY_STATUSES)[number];
export const isTerminalCeremony = (s: CeremonyStatus): boolean => s === 'completed' || s === 'failed';

/** A distributed key generation relayed by the coordinator. Only public data: round-2 shares are sealed. */
export interface CeremonyRecord {
  id: string;
  /** The id the key gets once registered. */
  keyId: string;
  suite: SuiteId;
  threshold: number;
  status: CeremonyStatus;
  /** In the order given at start; identifier i+1 for the i-th. */
  participants: CeremonyParticipant[];
  /** Signed round-1 packages by identifier. */
  round1: Record<string, SignedRound1>;
  /** The transcript hash every participant agreed on (from round 3 on). */
  transcriptHash: string | null;
  failureCode: string | null;
  failureReason: string | null;
  /** The first node blamed (see `culprits` for all of them). */
  culpritNodeId: string | null;
  /** Every node blamed for the failure. */
  culprits: string[];
  /** The current round's deadline. */
  deadline: Date;
  /** How long each round may take. */
  roundTimeoutMs: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

/** One sealed round-2 share as relayed (ciphertext only), with the sender's signed transcript hash. */
export interface CeremonyShareRecord {
  ceremonyId: string;
  fromIdentifier: string;
  toIdentifier: string;
  transcriptHash: string;
  /** The sender's identity signature over its transcript hash (`ceremonyAgreementTranscript`); null in rows stored before migration 0003. */
  transcriptSignature: string | null;
  sealed: SealedRound2;
  receivedAt: Date;
}

/** What one participant derived in round 3, signed with its identity key. */
export interface CeremonyResult {
  groupPublicKey: string;
  commitments: string[];
  verifyingShares: Record<string, string>;
  signature: string;
}
export interface CeremonyResultRecord {
  ceremonyId: string;
  nodeId: string;
  result: CeremonyResult;
  receivedAt: Date;
}

export type ActorKind = (typeof ACTOR_KINDS)[number];
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What a service asks to append; the repository assigns seq, id, recordedAt and the hashes. */
export interface AuditEntryInput {
  occurredAt: Date;
  actorKind: ActorKind;
  actorId: string;
  action: AuditAction;
  outcome: 'success' | 'failure';
  keyId?: string | null;
  requestId?: string | null;
  attemptId?: string | null;
  nodeId?: string | null;
  /** Values and hashes only, never a secret. Safe integers, strings, booleans, nulls, arrays, objects. */
  details: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  id: string;
  occurredAt: Date;
  actorKind: ActorKind;
  actorId: string;
  action: AuditAction;
  outcome: 'success' | 'failure';
  keyId: string | null;
  requestId: string | null;
  attemptId: string | null;
  nodeId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** A signed checkpoint of the audit Merkle tree (migration 0009): a C2SP tlog-checkpoint signed note. */
export interface AuditCheckpointRecord {
  origin: string;
  treeSize: number;
  /** MTH of the first treeSize leaves, hex. */
  rootHash: string;
  keyName: string;
  note: string;
  createdAt: Date;
}

/** A signer node's cosignature of a checkpoint (migration 0011): a C2SP tlog-cosignature line. */
export interface AuditCosignatureRecord {
  origin: string;
  treeSize: number;
  nodeId: string;
  keyName: string;
  /** The cosignature's own timestamp, POSIX seconds. */
  signedAt: number;
  line: string;
  createdAt: Date;
}

/** A node's latest refusal to cosign (migration 0011, upserted). */
export interface AuditWitnessRefusalRecord {
  origin: string;
  nodeId: string;
  code: string;
  message: string;
  treeSize: number;
  refusedAt: Date;
}

export type PrincipalRole = (typeof PRINCIPAL_ROLES)[number];
/** An API principal (migration 0007). Its API key is never stored: only the key's SHA-256, hex. */
export interface PrincipalRecord {
  id: string;
  /** Unique, chosen by the admin who created it. */
  name: string;
  role: PrincipalRole;
  apiKeyHash: string;
  createdAt: Date;
  /** Who created it: `admin` (the bootstrap token) or `principal:<id>`. */
  createdBy: string;
  revokedAt: Date | null;
}

/**
 * Where one node stands on one thing it decides on (a signing request, migration 0006, or a grant, 0008):
 * proposed (`proposedAt`), awaiting its operator (`awaitingSince`, from its awaiting notice, with the
 * policy hash, rule and reason), or its signed decision (checked against the node's identity key before
 * it was stored). The first decision stands.
 */
export interface NodeDecisionFields {
  nodeId: string;
  /** null until the node decided. */
  verdict: 'approve' | 'decline' | null;
  /** Who decided on the node (`by` of the signed decision); null until it decided. */
  by: 'policy' | 'operator' | null;
  /** The node's policy version: from its decision, or from its awaiting notice. */
  policyHash: string | null;
  rule: string | null;
  reason: string | null;
  /** The node's own time of decision (signed); null until it decided. */
  decidedAt: Date | null;
  /** Ed25519 by the node's identity key over the decision transcript; null until it decided. */
  signature: string | null;
  /** When it was first proposed to the node, if it was. */
  proposedAt: Date | null;
  /** When the node said its operator decides (kept once it decided); null if it never waited. */
  awaitingSince: Date | null;
  /** When the coordinator stored this row's current content. */
  receivedAt: Date;
}

/** Where one node stands on one signing request (migration 0006; signature over `decisionTranscript`). */
export interface DecisionRecord extends NodeDecisionFields {
  requestId: string;
}

export type GrantStatus = (typeof GRANT_STATUSES)[number];
/** A session-key grant (migration 0008): the canonical grant, its hash, and where it stands. */
export interface GrantRecord {
  id: string;
  keyId: string;
  grant: Grant;
  /** libs/intent `grantHash(grant)`, hex: what the nodes sign. */
  grantHash: string;
  status: GrantStatus;
  /** `admin` or `principal:<id>` (the grant's own `proposer`). */
  proposer: string;
  createdAt: Date;
  activatedAt: Date | null;
  revokedAt: Date | null;
  /** `admin`, `principal:<id>` or `node:<id>`. */
  revokedBy: string | null;
  revokeReason: string | null;
  /** The grant's `validUntil`. */
  validUntil: Date;
}

/** Where one member node stands on a grant (as DecisionRecord for a request; signature over `grantDecisionTranscript`). */
export interface GrantDecisionRecord extends NodeDecisionFields {
  grantId: string;
}

/** An agent nonce used under a grant, with the request it authorized and the agent's signed authorization. */
export interface GrantNonceRecord {
  grantId: string;
  nonce: string;
  requestId: string;
  authorization: AgentAuthorization;
  receivedAt: Date;
}
