import { assertValidSignerSet, type CommitmentHex } from '#crypto';
import type { AttemptPackageFrame, RefusalCode } from '#protocol';
import type { KeyShare } from '../keystore/keystore-records.js';
import { describeError } from '../logger.js';
import type { NonceStatus } from '../nonces/nonce-store.js';

/** What the node approved for a request, as far as a package is concerned. */
export interface ApprovedForPackage {
  keyId: string;
  /** The digest the node derived itself from the approved intent (lower-case hex). */
  digest: string;
  deadline: number;
}

export interface PackageContext {
  approved: ApprovedForPackage;
  /** The node's share of the approved key, or null when it no longer holds one. */
  share: KeyShare | null;
  /** This node's entry in the package's signer set, if any. */
  own: CommitmentHex | undefined;
  nonceStatus: (own: CommitmentHex) => NonceStatus;
  now: number;
}

export type PackageVerdict = { ok: true; share: KeyShare; own: CommitmentHex } | { ok: false; code: RefusalCode; reason: string };

/**
 * The checks a package of an approved request must pass before the node signs, in a fixed order; the
 * first that fails decides the refusal. The message must be exactly the digest the node derived from
 * the intent it approved (MESSAGE_MISMATCH otherwise): a node never signs bytes it cannot explain.
 */
export function checkPackage(pkg: AttemptPackageFrame, ctx: PackageContext): PackageVerdict {
  const refuse = (code: RefusalCode, reason: string): PackageVerdict => ({ ok: false, code, reason });
  const { approved, share, own } = ctx;
  if (pkg.keyId.toLowerCase() !== approved.keyId) {
    return refuse('NOT_PROPOSED', `request ${pkg.requestId} was approved for key ${approved.keyId}, not ${pkg.keyId}`);
  }
  if (!share) return refuse('KEY_NOT_HELD', `this node no longer holds a share of key ${approved.keyId}`);
  if (pkg.message.toLowerCase() !== approved.digest) {
    return refuse('MESSAGE_MISMATCH', `the package message is not ${approved.digest}, the digest of the intent this node approved`);
  }
  if (ctx.now >= pkg.deadline) return refuse('DEADLINE_PASSED', `the attempt's deadline ${pkg.deadline} has passed`);
  if (ctx.now >= approved.deadline) return refuse('DEADLINE_PASSED', `the request's deadline ${approved.deadline} has passed`);
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
  switch (ctx.nonceStatus(own)) {
    case 'live':
      return { ok: true, share, own };
    case 'consumed':
      return refuse('NONCE_CONSUMED', 'this node already used or discarded the nonce behind its commitment');
    case 'altered':
      return refuse('COMMITMENT_ALTERED', 'this node never issued its commitment as listed for this request');
    case 'unknown':
      return refuse('NONCE_UNKNOWN', 'this node has no record of the commitment listed for it');
  }
}
