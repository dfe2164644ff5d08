import { hexToBytes, signShare, type CommitmentHex } from '#crypto';
import type { AttemptPackageFrame, AttemptShareFrame, Outgoing, RefusalCode } from '#protocol';
import type { NodeGrants } from '../grants/node-grants.js';
import type { KeyShare } from '../keystore/keystore-records.js';
import { describeError, type SignerLogger } from '../logger.js';
import type { NonceStore } from '../nonces/nonce-store.js';
import type { NodePolicy, PolicySubject } from '../policy/policy-types.js';
import { checkPackage } from './package-checks.js';
import { refusal, unproposedRefusal } from './signing-frames.js';
import { underGrant, type AcceptedProposal, type PackageAnswer } from './signing-types.js';

/** What answering one package needs from the signing service: its stores and its memory of the request. */
export interface PackageSigningContext {
  nonces: NonceStore;
  policy: NodePolicy;
  grants?: NodeGrants;
  logger: SignerLogger;
  now: () => number;
  /** The proposal of the package's request this node approved, if any. */
  proposal: AcceptedProposal | undefined;
  shareFor(keyId: string): Promise<KeyShare | null>;
  freshCommitment(requestId: string, share: KeyShare): Promise<CommitmentHex>;
}

/**
 * A new package (not a duplicate: signing-service.ts answers those from memory), from the checks to the
 * share: the package checks (package-checks.ts), then the grant's counters and the velocity limits,
 * counted just before the share leaves, then the share and the commitment for the request's next attempt.
 * Every refusal burns the nonce the package named: each commitment serves one attempt at most.
 */
export async function signPackage(pkg: AttemptPackageFrame, ctx: PackageSigningContext): Promise<PackageAnswer> {
  const { proposal, nonces, logger } = ctx;
  const keyId = proposal?.derived.intent.keyId;
  const share = proposal && pkg.keyId.toLowerCase() === keyId ? await ctx.shareFor(proposal.derived.intent.keyId) : null;
  const own = share ? pkg.commitments.find((c) => c.identifier === share.identifier) : undefined;

  const refuse = async (code: RefusalCode, reason: string): Promise<PackageAnswer> => {
    if (own && nonces.status(pkg.requestId, own) === 'live') await nonces.discard(own, `refused ${code}`);
    logger.warn({ requestId: pkg.requestId, attemptId: pkg.attemptId, code, reason }, 'refused a signing package');
    return { outcome: { kind: 'refused', frame: refusal(pkg, code, reason), replayed: false }, ownCommitment: own };
  };

  if (!proposal) return refuse(...unproposedRefusal(pkg, await ctx.shareFor(pkg.keyId), nonces));
  const now = ctx.now();
  const verdict = checkPackage(pkg, {
    approved: { keyId: proposal.derived.intent.keyId, digest: proposal.derived.digest, deadline: proposal.derived.intent.deadline },
    share,
    own,
    nonceStatus: (commitment) => nonces.status(pkg.requestId, commitment),
    now,
  });
  if (!verdict.ok) return refuse(verdict.code, verdict.reason);

  // A grant revoked since the proposal stops the share here.
  if (underGrant(proposal.approvedBy)) {
    const counted = ctx.grants
      ? await ctx.grants.commitRequest(proposal.approvedBy.grantId, pkg.requestId, proposal.derived.intent, now)
      : { ok: false as const, code: 'POLICY_DENIED' as const, reason: 'this node keeps no grants' };
    if (!counted.ok) return refuse(counted.code, counted.reason);
  }
  const subject: PolicySubject = { requestId: pkg.requestId, intent: proposal.derived.intent, intentHash: proposal.derived.intentHash };
  let usage;
  try {
    usage = await ctx.policy.commitUsage(subject, now, proposal.approvedBy);
  } catch (e) {
    usage = { ok: false as const, reason: `the policy could not record the usage: ${describeError(e)}` };
  }
  if (!usage.ok) return refuse('POLICY_DENIED', usage.reason);

  const { share: held, own: mine } = verdict;
  let signatureShare: string;
  try {
    const message = hexToBytes(proposal.derived.digest);
    signatureShare = await nonces.consume(pkg.requestId, mine, pkg.attemptId, (secret) =>
      signShare(held.publicPackage, held.identifier, held.signingShare, secret, pkg.commitments, message),
    );
  } catch (e) {
    logger.error({ requestId: pkg.requestId, attemptId: pkg.attemptId, err: describeError(e) }, 'signing failed');
    return refuse('SIGNING_FAILED', `signing failed: ${describeError(e)}`);
  }
  // The next attempt of this request (ROAST) needs a commitment the coordinator has not seen yet.
  let nextCommitment: CommitmentHex | undefined;
  try {
    nextCommitment = await ctx.freshCommitment(pkg.requestId, held);
  } catch (e) {
    logger.error({ requestId: pkg.requestId, err: describeError(e) }, 'cannot record the next nonce; sending the share alone');
  }
  const frame: Outgoing<AttemptShareFrame> = {
    type: 'attempt.share',
    requestId: pkg.requestId,
    attemptId: pkg.attemptId,
    share: signatureShare,
    ...(nextCommitment ? { nextCommitment } : {}),
  };
  return { outcome: { kind: 'signed', frame, replayed: false }, ownCommitment: mine };
}
