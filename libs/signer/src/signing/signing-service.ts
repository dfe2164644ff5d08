import {
  assertValidSignerSet,
  canonicalJson,
  commit,
  hexToBytes,
  sha256Hex,
  signShare,
  type CommitmentHex,
  type SuiteId,
} from '#crypto';
import type {
  AttemptAbortFrame,
  AttemptPackageFrame,
  AttemptRefuseFrame,
  AttemptShareFrame,
  Outgoing,
  RefusalCode,
  RequestClosedFrame,
  RequestCommitFrame,
  RequestDeclineFrame,
  RequestProposeFrame,
} from '#protocol';
import type { KeyShare } from '../keystore/keystore-records.js';
import { describeError, silentLogger, type SignerLogger } from '../logger.js';
import type { NonceStore } from '../nonces/nonce-store.js';
import { evaluatePolicy, type SigningPolicy } from '../policy/signing-policy.js';

/** Where the service finds this node's key shares (the keystore, in production). */
export interface ShareSource {
  findShare(keyId: string): Promise<KeyShare | null>;
}

export interface SigningServiceOptions {
  shares: ShareSource;
  nonces: NonceStore;
  policy: SigningPolicy;
  logger?: SignerLogger;
  now?: () => number;
  /** How long after its deadline an accepted proposal (and its attempts) is still remembered. */
  retainMs?: number;
  /** Most signed or refused attempts remembered, to answer a duplicate package identically. */
  maxRememberedAttempts?: number;
}

export type ProposeOutcome =
  | { kind: 'committed'; frame: Outgoing<RequestCommitFrame> }
  | { kind: 'declined'; frame: Outgoing<RequestDeclineFrame> };

export type PackageOutcome =
  | { kind: 'signed'; frame: Outgoing<AttemptShareFrame>; replayed: boolean }
  | { kind: 'refused'; frame: Outgoing<AttemptRefuseFrame>; replayed: boolean };

/** A proposal this node approved: what it agreed to sign, compared byte for byte with every package. */
interface AcceptedProposal {
  requestId: string;
  keyId: string;
  suite: SuiteId;
  threshold: number;
  message: string;
  messageEncoding: RequestProposeFrame['messageEncoding'];
  description: string;
  deadline: number;
}

interface AnsweredAttempt {
  requestId: string;
  /** Digest of the whole package, to tell a duplicate from a different package under the same id. */
  packageDigest: string;
  response: Outgoing<AttemptShareFrame> | Outgoing<AttemptRefuseFrame>;
  /** This node's commitment as the package named it, if it did. */
  ownCommitment?: CommitmentHex;
}

const MAX_REASON = 500;
const DEFAULT_RETAIN_MS = 10 * 60_000;
const DEFAULT_MAX_ATTEMPTS = 4096;

/**
 * The signer's decisions, independent of the transport: whether to commit to a proposal and whether
 * to sign a package (RFC 9591 §5.2 and the signer rules in the FROST guide). Callers must hand it
 * frames one at a time, in arrival order.
 */
export class SigningService {
  private readonly proposals = new Map<string, AcceptedProposal>();
  /** Insertion order is age order. */
  private readonly attempts = new Map<string, AnsweredAttempt>();
  private readonly shareCache = new Map<string, KeyShare>();
  private readonly logger: SignerLogger;
  private readonly now: () => number;
  private readonly retainMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly options: SigningServiceOptions) {
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.retainMs = options.retainMs ?? DEFAULT_RETAIN_MS;
    this.maxAttempts = options.maxRememberedAttempts ?? DEFAULT_MAX_ATTEMPTS;
  }

  async handlePropose(p: RequestProposeFrame): Promise<ProposeOutcome> {
    await this.forgetExpired();
    const decline = (code: RefusalCode, reason: string): ProposeOutcome => ({
      kind: 'declined',
      frame: { type: 'request.decline', requestId: p.requestId, code, reason: reason.slice(0, MAX_REASON) },
    });
    const share = await this.shareFor(p.keyId);
    if (!share) return decline('KEY_NOT_HELD', `this node holds no share of key ${p.keyId}`);
    const pkg = share.publicPackage;
    if (share.suite !== p.suite || pkg.threshold !== p.threshold) {
      return decline(
        'SUITE_MISMATCH',
        `key ${p.keyId} is ${share.suite} ${pkg.threshold}-of-${pkg.maxSigners} on this node; ` +
          `the proposal says ${p.suite} with threshold ${p.threshold}`,
      );
    }
    if (p.deadline <= this.now()) return decline('DEADLINE_PASSED', `the request's deadline ${p.deadline} has passed`);
    const earlier = this.proposals.get(p.requestId);
    if (earlier && !sameProposal(earlier, p)) {
      // A request is an immutable intent: what was approved once cannot be swapped under the same id.
      return decline('MESSAGE_MISMATCH', `request ${p.requestId} was proposed earlier with different content`);
    }
    const decision = evaluatePolicy(this.options.policy, p);
    if (!decision.approved) return decline('POLICY_DENIED', decision.reason);

    let commitment: CommitmentHex;
    try {
      commitment = await this.freshCommitment(p.requestId, share);
    } catch (e) {
      this.logger.error({ requestId: p.requestId, err: describeError(e) }, 'cannot record a new nonce; declining');
      return decline('SIGNING_FAILED', `cannot record a new nonce: ${describeError(e)}`);
    }
    if (!earlier) {
      this.proposals.set(p.requestId, {
        requestId: p.requestId,
        keyId: p.keyId,
        suite: p.suite,
        threshold: p.threshold,
        message: p.message,
        messageEncoding: p.messageEncoding,
        description: p.description,
        deadline: p.deadline,
      });
    }
    return { kind: 'committed', frame: { type: 'request.commit', requestId: p.requestId, commitment } };
  }

  async handlePackage(pkg: AttemptPackageFrame): Promise<PackageOutcome> {
    const digest = sha256Hex(canonicalJson(pkg));
    const answered = this.attempts.get(pkg.attemptId);
    if (answered && answered.requestId === pkg.requestId && answered.packageDigest === digest) {
      // The same package again (a resend after a reconnect): the same answer, never a second share.
      return answered.response.type === 'attempt.share'
        ? { kind: 'signed', frame: answered.response, replayed: true }
        : { kind: 'refused', frame: answered.response, replayed: true };
    }
    if (answered?.response.type === 'attempt.share') {
      return {
        kind: 'refused',
        replayed: false,
        frame: refusal(pkg, 'NONCE_CONSUMED', `attempt ${pkg.attemptId} was already signed, for a different package`),
      };
    }
    const { outcome, ownCommitment } = await this.evaluatePackage(pkg);
    this.remember(pkg.attemptId, { requestId: pkg.requestId, packageDigest: digest, response: outcome.frame, ownCommitment });
    return outcome;
  }

  /** The attempt is over without this node's share: burn the nonce it named, if still live. */
  async handleAbort(a: AttemptAbortFrame): Promise<void> {
    const answered = this.attempts.get(a.attemptId);
    if (answered?.requestId === a.requestId && answered.ownCommitment) {
      await this.options.nonces.discard(answered.ownCommitment, 'attempt aborted');
    }
  }

  /** The request is over: discard its nonces and forget it. Returns how many nonces were discarded. */
  async handleClosed(c: RequestClosedFrame): Promise<number> {
    return this.forgetRequest(c.requestId, `request ${c.status}`);
  }

  private async evaluatePackage(
    pkg: AttemptPackageFrame,
  ): Promise<{ outcome: PackageOutcome; ownCommitment?: CommitmentHex }> {
    const proposal = this.proposals.get(pkg.requestId);
    const share = proposal && pkg.keyId === proposal.keyId ? await this.shareFor(proposal.keyId) : null;
    const own = share ? pkg.commitments.find((c) => c.identifier === share.identifier) : undefined;

    const refuse = async (code: RefusalCode, reason: string) => {
      // A commitment named in a refused package is burned: each commitment serves one attempt at most.
      if (own && this.options.nonces.status(pkg.requestId, own) === 'live') {
        await this.options.nonces.discard(own, `refused ${code}`);
      }
      this.logger.warn({ requestId: pkg.requestId, attemptId: pkg.attemptId, code, reason }, 'refused a signing package');
      return { outcome: { kind: 'refused', frame: refusal(pkg, code, reason), replayed: false } as const, ownCommitment: own };
    };

    if (!proposal) return refuse(...(await this.unproposedRefusal(pkg)));
    if (pkg.keyId !== proposal.keyId) {
      return refuse('NOT_PROPOSED', `request ${pkg.requestId} was proposed for key ${proposal.keyId}, not ${pkg.keyId}`);
    }
    if (!share) return refuse('KEY_NOT_HELD', `this node no longer holds a share of key ${proposal.keyId}`);
    if (pkg.message !== proposal.message) {
      return refuse('MESSAGE_MISMATCH', 'the package message differs from the proposed message');
    }
    const now = this.now();
    if (now >= pkg.deadline) return refuse('DEADLINE_PASSED', `the attempt's deadline ${pkg.deadline} has passed`);
    if (now >= proposal.deadline) return refuse('DEADLINE_PASSED', `the request's deadline ${proposal.deadline} has passed`);
    const keyPackage = share.publicPackage;
    if (pkg.commitments.length < keyPackage.threshold || pkg.commitments.length > keyPackage.maxSigners) {
      return refuse(
        'SIGNER_SET_SIZE',
        `the signer set has ${pkg.commitments.length} entries, outside [${keyPackage.threshold}, ${keyPackage.maxSigners}]`,
      );
    }
    try {
      assertValidSignerSet(keyPackage, pkg.commitments);
    } catch (e) {
      return refuse('SIGNER_SET_INVALID', describeError(e));
    }
    if (!own) return refuse('COMMITMENT_MISSING', `the signer set has no commitment for this node (${share.identifier})`);
    switch (this.options.nonces.status(pkg.requestId, own)) {
      case 'live':
        break;
      case 'consumed':
        return refuse('NONCE_CONSUMED', 'this node already used or discarded the nonce behind its commitment');
      case 'altered':
        return refuse('COMMITMENT_ALTERED', 'this node never issued its commitment as listed for this request');
      case 'unknown':
        return refuse('NONCE_UNKNOWN', 'this node has no record of the commitment listed for it');
    }

    let signatureShare: string;
    try {
      const message = hexToBytes(pkg.message);
      signatureShare = await this.options.nonces.consume(pkg.requestId, own, pkg.attemptId, (nonces) =>
        signShare(keyPackage, share.identifier, share.signingShare, nonces, pkg.commitments, message),
      );
    } catch (e) {
      this.logger.error({ requestId: pkg.requestId, attemptId: pkg.attemptId, err: describeError(e) }, 'signing failed');
      return refuse('SIGNING_FAILED', `signing failed: ${describeError(e)}`);
    }
    // The next attempt of this request (ROAST) needs a commitment the coordinator has not seen yet.
    let nextCommitment: CommitmentHex | undefined;
    try {
      nextCommitment = await this.freshCommitment(pkg.requestId, share);
    } catch (e) {
      this.logger.error({ requestId: pkg.requestId, err: describeError(e) }, 'cannot record the next nonce; sending the share alone');
    }
    const frame: Outgoing<AttemptShareFrame> = {
      type: 'attempt.share',
      requestId: pkg.requestId,
      attemptId: pkg.attemptId,
      share: signatureShare,
      ...(nextCommitment ? { nextCommitment } : {}),
    };
    return { outcome: { kind: 'signed', frame, replayed: false }, ownCommitment: own };
  }

  /**
   * A package for a request this node holds no proposal for. After a restart the coordinator re-sends
   * a pending attempt's package before proposing again; the nonce behind it died with the previous
   * process. Saying so (NONCE_CONSUMED / NONCE_UNKNOWN) rather than NOT_PROPOSED keeps an honest
   * restarted node from being blamed for refusing to sign.
   */
  private async unproposedRefusal(pkg: AttemptPackageFrame): Promise<[RefusalCode, string]> {
    const share = await this.shareFor(pkg.keyId);
    const mine = share ? pkg.commitments.find((c) => c.identifier === share.identifier) : undefined;
    switch (mine ? this.options.nonces.status(pkg.requestId, mine) : undefined) {
      case 'consumed':
        return ['NONCE_CONSUMED', 'the nonce behind this node\'s commitment was already used or discarded (the node may have restarted)'];
      case 'unknown':
        return ['NONCE_UNKNOWN', 'this node has no record of the commitment listed for it (the node may have restarted)'];
      default:
        return ['NOT_PROPOSED', `this node accepted no proposal for request ${pkg.requestId}`];
    }
  }

  private async freshCommitment(requestId: string, share: KeyShare): Promise<CommitmentHex> {
    const { nonces, commitment } = commit(share.suite, share.identifier, share.signingShare);
    await this.options.nonces.issue(requestId, commitment, nonces);
    return commitment;
  }

  private async shareFor(keyId: string): Promise<KeyShare | null> {
    const cached = this.shareCache.get(keyId);
    if (cached) return cached;
    try {
      // Read on a miss: a dealer may have written a new share since the node started.
      const share = await this.options.shares.findShare(keyId);
      if (share) this.shareCache.set(keyId, share);
      return share;
    } catch (e) {
      this.logger.error({ keyId, err: describeError(e) }, 'the share of this key is unreadable; treating it as not held');
      return null;
    }
  }

  private remember(attemptId: string, answered: AnsweredAttempt): void {
    this.attempts.delete(attemptId);
    this.attempts.set(attemptId, answered);
    for (const oldest of this.attempts.keys()) {
      if (this.attempts.size <= this.maxAttempts) break;
      this.attempts.delete(oldest);
    }
  }

  private async forgetRequest(requestId: string, reason: string): Promise<number> {
    this.proposals.delete(requestId);
    for (const [attemptId, a] of this.attempts) if (a.requestId === requestId) this.attempts.delete(attemptId);
    return this.options.nonces.discardRequest(requestId, reason);
  }

  private async forgetExpired(): Promise<void> {
    const cutoff = this.now() - this.retainMs;
    for (const p of [...this.proposals.values()]) {
      if (p.deadline < cutoff) await this.forgetRequest(p.requestId, 'request expired');
    }
  }
}

function refusal(pkg: AttemptPackageFrame, code: RefusalCode, reason: string): Outgoing<AttemptRefuseFrame> {
  return { type: 'attempt.refuse', requestId: pkg.requestId, attemptId: pkg.attemptId, code, reason: reason.slice(0, MAX_REASON) };
}

const sameProposal = (a: AcceptedProposal, p: RequestProposeFrame): boolean =>
  a.keyId === p.keyId &&
  a.suite === p.suite &&
  a.threshold === p.threshold &&
  a.message === p.message &&
  a.messageEncoding === p.messageEncoding &&
  a.description === p.description &&
  a.deadline === p.deadline;
