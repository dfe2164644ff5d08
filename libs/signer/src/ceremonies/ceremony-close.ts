import { canonicalJson, ceremonyResultTranscript, groupPublicKey, identityVerify, type PublicKeyPackage } from '#crypto';
import type { CeremonyClosedFrame, CeremonyParticipant, CeremonyResultFrame, Outgoing } from '#protocol';

/** What a node keeps of a ceremony once its share is stored (also in the pending mark, for after a restart). */
export interface HeldCeremony {
  ceremonyId: string;
  keyId: string;
  participants: CeremonyParticipant[];
}

/**
 * This node's `ceremony.result` for a share it derived: the public package, signed over
 * `ceremonyResultTranscript`. Deterministic (Ed25519), so a node can send it again from the stored share.
 */
export function resultFrame(
  held: Pick<HeldCeremony, 'ceremonyId' | 'keyId'>,
  pkg: PublicKeyPackage,
  sign: (message: Uint8Array) => string,
): Outgoing<CeremonyResultFrame> {
  const gpk = groupPublicKey(pkg);
  const { commitments, verifyingShares } = pkg;
  const signature = sign(ceremonyResultTranscript({ ceremonyId: held.ceremonyId, keyId: held.keyId, groupPublicKey: gpk, commitments, verifyingShares }));
  return { type: 'ceremony.result', ceremonyId: held.ceremonyId, groupPublicKey: gpk, commitments, verifyingShares, signature };
}

export type CloseVerdict = { confirmed: true } | { confirmed: false; reason: string };

/**
 * Judges a `ceremony.closed` `completed` against the share this node derived (`own`, its stored public
 * package): confirmed only when the frame names this ceremony's key, carries the key this node derived,
 * the same commitments and verifying shares, and one valid signature per participant over exactly that
 * result (`ceremonyResultTranscript`), i.e. every participant derived what this node derived. Anything
 * else is a reason to keep the share quarantined, never to delete it: the key may be registered. Pure.
 */
export function judgeCompletedClose(frame: CeremonyClosedFrame, held: HeldCeremony, own: PublicKeyPackage): CloseVerdict {
  const refuse = (reason: string): CloseVerdict => ({ confirmed: false, reason });
  if (frame.status !== 'completed') return refuse(`the ceremony is ${frame.status}`);
  if (frame.keyId !== held.keyId) return refuse(`the frame names key ${frame.keyId ?? '(none)'}, not ${held.keyId}`);
  const { groupPublicKey: key, commitments, verifyingShares, resultSignatures } = frame;
  if (key === undefined || commitments === undefined || verifyingShares === undefined || resultSignatures === undefined) {
    return refuse("the frame does not carry the registered key and every participant's signed result");
  }
  const derived = groupPublicKey(own);
  if (key !== derived) return refuse(`the registered group key ${key} is not the one this node derived (${derived})`);
  if (canonicalJson(commitments) !== canonicalJson(own.commitments) || canonicalJson(verifyingShares) !== canonicalJson(own.verifyingShares)) {
    return refuse('the registered commitments or verifying shares differ from the ones this node derived');
  }
  const transcript = ceremonyResultTranscript({ ceremonyId: held.ceremonyId, keyId: held.keyId, groupPublicKey: key, commitments, verifyingShares });
  const byId = new Map(resultSignatures.map((r) => [r.identifier, r.signature]));
  if (byId.size !== resultSignatures.length || resultSignatures.length !== held.participants.length) {
    return refuse(`expected one result signature per participant (${held.participants.length}), got ${resultSignatures.length}`);
  }
  for (const p of held.participants) {
    const signature = byId.get(p.identifier);
    if (signature === undefined) return refuse(`no result signature from ${p.identifier}`);
    if (!identityVerify(p.identityKey, transcript, signature)) {
      return refuse(`the result signature of ${p.identifier} does not verify: that participant did not sign this key`);
    }
  }
  return { confirmed: true };
}
