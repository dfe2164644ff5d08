import type { DKG_Round1, DKG_Round2, DKG_Secret } from '@noble/curves/abstract/frost.js';
import {
  bytesToHex,
  getSuite,
  groupPublicKey,
  hexToBytes,
  identityVerify,
  isValidIdentityKey,
  sha256Hex,
  utf8,
  type PublicKeyPackage,
  type Suite,
} from '#crypto';
import {
  ceremonyResultTranscript,
  ceremonyRound1Transcript,
  ceremonyTranscript,
  round2AssociatedData,
  type CeremonyAbortFrame,
  type CeremonyParticipant as ParticipantEntry,
  type CeremonyResultFrame,
  type CeremonyRound1AllFrame,
  type CeremonyRound1Frame,
  type CeremonyRound2AllFrame,
  type CeremonyRound2Frame,
  type CeremonyStartFrame,
  type Outgoing,
  type Round1Package,
  type SealedRound2,
  type SignedRound1,
} from '#protocol';
import type { KeyShare } from '../keystore/keystore-records.js';
import type { SealedBox } from '../keystore/sealed-share.js';

export type CeremonyAbortCode = CeremonyAbortFrame['code'];

/** HKDF info of the round-2 share sealing (separates it from the dealer's sealed shares). */
export const ROUND2_SEALING_INFO = utf8('roundtable dkg round2 v1');

/** Thrown by the participant when it stops the ceremony: becomes a `ceremony.abort` frame. */
export class CeremonyAbortError extends Error {
  constructor(
    readonly code: CeremonyAbortCode,
    message: string,
    readonly culprit?: string,
  ) {
    super(message);
    this.name = 'CeremonyAbortError';
  }
}

/** What the participant needs from the keystore: the identity (sign, open) and share storage. */
export interface CeremonyKeystore {
  readonly publicKey: string;
  signWithIdentity(message: Uint8Array): string;
  sealToPeer(plaintext: Uint8Array, recipientPublicKey: string, associatedData: Uint8Array, info: Uint8Array): SealedBox;
  openFromPeer(box: SealedBox, senderPublicKey: string, associatedData: Uint8Array, info: Uint8Array): Uint8Array;
  writeShare(share: KeyShare): Promise<void>;
  removeShare(keyId: string): Promise<boolean>;
  markPending(keyId: string): Promise<void>;
  findShare(keyId: string): Promise<KeyShare | null>;
}

export interface CeremonyPolicy {
  /** False: every ceremony is refused (PARAMETERS_REFUSED). */
  acceptCeremonies: boolean;
  now: () => number;
  /** The node id the coordinator assigned this node, when known: its entry must carry it. */
  nodeId?: string;
}

export type CeremonyPhase = 'awaiting-round1' | 'awaiting-round2' | 'awaiting-close' | 'ended';

export interface CeremonyResult {
  frame: Outgoing<CeremonyResultFrame>;
  groupPublicKey: string;
}

const MAX_REASON = 500;
const clip = (s: string) => (s.length > MAX_REASON ? `${s.slice(0, MAX_REASON - 3)}...` : s);
function abort(code: CeremonyAbortCode, reason: string, culprit?: string): never {
  throw new CeremonyAbortError(code, clip(reason), culprit);
}

/**
 * This node's side of one distributed key generation (noble's DKG), driven by the coordinator's
 * frames. Held in memory only: the DKG secret state never touches the disk; only the final share is
 * stored, in the encrypted keystore, at round 3. Every check that fails throws CeremonyAbortError.
 */
export class CeremonyParticipant {
  readonly ceremonyId: string;
  readonly keyId: string;
  readonly suite: Suite;
  readonly threshold: number;
  readonly participants: ParticipantEntry[];
  readonly me: ParticipantEntry;
  /** The deadline for the coordinator's next frame. */
  deadline: number;
  phase: CeremonyPhase = 'awaiting-round1';
  /** True once this ceremony's share is in the keystore (removed again if the ceremony fails). */
  shareStored = false;
  groupPublicKey?: string;

  private secret?: DKG_Secret;
  private readonly ownRound1: SignedRound1;
  private transcriptHash?: string;
  private othersRound1?: DKG_Round1[];
  /** The last frame received and the answer sent, to answer an exact duplicate identically. */
  private lastAnswer?: { digest: string; frame: Outgoing<CeremonyRound1Frame | CeremonyRound2Frame | CeremonyResultFrame> };

  private constructor(
    frame: CeremonyStartFrame,
    me: ParticipantEntry,
    private readonly keystore: CeremonyKeystore,
    private readonly now: () => number,
  ) {
    this.ceremonyId = frame.ceremonyId;
    this.keyId = frame.keyId;
    this.suite = getSuite(frame.suite);
    this.threshold = frame.threshold;
    this.participants = frame.participants;
    this.me = me;
    this.deadline = frame.deadline;
    const { public: pub, secret } = this.suite.frost.DKG.round1(me.identifier, {
      min: frame.threshold,
      max: frame.participants.length,
    });
    this.secret = secret;
    const pkg: Round1Package = {
      identifier: pub.identifier,
      commitment: pub.commitment.map(bytesToHex),
      proofOfKnowledge: bytesToHex(pub.proofOfKnowledge),
    };
    this.ownRound1 = { package: pkg, signature: keystore.signWithIdentity(ceremonyRound1Transcript(this.ceremonyId, pkg)) };
  }

  /** Checks the parameters and this node's place, runs DKG round 1; returns the participant and its `ceremony.round1`. */
  static async start(
    frame: CeremonyStartFrame,
    keystore: CeremonyKeystore,
    policy: CeremonyPolicy,
  ): Promise<{ participant: CeremonyParticipant; frame: Outgoing<CeremonyRound1Frame> }> {
    const mine = frame.participants.filter((p) => p.identityKey === keystore.publicKey);
    if (mine.length !== 1) {
      abort('NOT_A_PARTICIPANT', mine.length === 0 ? 'this node is not a participant' : 'this node is listed more than once');
    }
    const me = mine[0]!;
    if (policy.nodeId !== undefined && me.nodeId !== policy.nodeId) {
      abort('NOT_A_PARTICIPANT', `this node's identity key is listed under node id ${me.nodeId}, not ${policy.nodeId}`);
    }
    if (!policy.acceptCeremonies) abort('PARAMETERS_REFUSED', "this node's operator refuses key generation ceremonies");
    checkParameters(frame, policy.now());
    if (await keystore.findShare(frame.keyId).catch(() => true)) {
      abort('PARAMETERS_REFUSED', `this node already holds a share of key ${frame.keyId}`);
    }
    const participant = new CeremonyParticipant(frame, me, keystore, policy.now);
    const out: Outgoing<CeremonyRound1Frame> = { type: 'ceremony.round1', ceremonyId: frame.ceremonyId, round1: participant.ownRound1 };
    participant.lastAnswer = { digest: digestOf(frame), frame: out };
    return { participant, frame: out };
  }

  /** The answer already sent for an identical frame, if this one repeats the last one received. */
  repeatedAnswer(frame: object): Outgoing<CeremonyRound1Frame | CeremonyRound2Frame | CeremonyResultFrame> | undefined {
    return this.lastAnswer?.digest === digestOf(frame) ? this.lastAnswer.frame : undefined;
  }

  /** Round 2: checks the relayed round-1 set, fixes the transcript hash, seals one share per other participant. */
  handleRound1All(frame: CeremonyRound1AllFrame): Outgoing<CeremonyRound2Frame> {
    if (this.phase !== 'awaiting-round1' || !this.secret) abort('INTERNAL', `unexpected ceremony.round1.all in phase ${this.phase}`);
    const byId = new Map(this.participants.map((p) => [p.identifier, p]));
    const seen = new Set<string>();
    for (const signed of frame.packages) {
      const id = signed.package.identifier;
      if (!byId.has(id)) abort('TRANSCRIPT_MISMATCH', `round 1 names ${id}, who is not a participant`);
      if (seen.has(id)) abort('TRANSCRIPT_MISMATCH', `round 1 has two packages from ${id}`);
      seen.add(id);
    }
    const missing = this.participants.filter((p) => !seen.has(p.identifier));
    if (missing.length > 0) {
      abort('TRANSCRIPT_MISMATCH', `round 1 lacks the packages of ${missing.map((p) => p.identifier).join(', ')}`);
    }
    const own = frame.packages.find((s) => s.package.identifier === this.me.identifier)!;
    if (digestOf(own) !== digestOf(this.ownRound1)) abort('TRANSCRIPT_MISMATCH', "round 1 carries an altered copy of this node's own package");
    for (const signed of frame.packages) {
      const entry = byId.get(signed.package.identifier)!;
      if (!identityVerify(entry.identityKey, ceremonyRound1Transcript(this.ceremonyId, signed.package), signed.signature)) {
        abort('BAD_SIGNATURE', `the round-1 package of ${entry.identifier} is not signed by its identity key for this ceremony`, entry.identifier);
      }
    }
    for (const signed of frame.packages) {
      const pkg = signed.package;
      if (pkg.commitment.length !== this.threshold) {
        abort('BAD_PROOF', `the commitment of ${pkg.identifier} has ${pkg.commitment.length} elements, not ${this.threshold}`, pkg.identifier);
      }
      try {
        pkg.commitment.forEach((c, i) => this.suite.assertElement(c, `commitment[${i}]`));
      } catch (e) {
        abort('BAD_PROOF', `the commitment of ${pkg.identifier} is invalid: ${(e as Error).message}`, pkg.identifier);
      }
    }
    const packages = [...frame.packages].sort((a, b) => this.compareIds(a.package.identifier, b.package.identifier));
    this.transcriptHash = sha256Hex(
      ceremonyTranscript({
        ceremonyId: this.ceremonyId,
        keyId: this.keyId,
        suite: this.suite.id,
        threshold: this.threshold,
        participants: this.participants,
        round1: packages,
      }),
    );
    const others = packages.filter((s) => s.package.identifier !== this.me.identifier).map((s) => toNobleRound1(s.package));
    let round2: Record<string, DKG_Round2>;
    try {
      round2 = this.suite.frost.DKG.round2(this.secret, others);
    } catch (e) {
      const culprit = this.findBadProof(others);
      abort('BAD_PROOF', `round 2 failed: ${(e as Error).message}`, culprit);
    }
    this.othersRound1 = others;
    const shares: SealedRound2[] = [];
    for (const p of this.participants) {
      if (p.identifier === this.me.identifier) continue;
      const pkg = round2[p.identifier];
      if (!pkg) abort('INTERNAL', `noble produced no round-2 share for ${p.identifier}`);
      const ad = round2AssociatedData(this.ceremonyId, this.me.identifier, p.identifier, p.identityKey);
      const box = this.keystore.sealToPeer(pkg.signingShare, p.identityKey, ad, ROUND2_SEALING_INFO);
      pkg.signingShare.fill(0);
      shares.push({ from: this.me.identifier, to: p.identifier, ...box });
    }
    shares.sort((a, b) => this.compareIds(a.to, b.to));
    this.phase = 'awaiting-round2';
    this.deadline = frame.deadline;
    const out: Outgoing<CeremonyRound2Frame> = {
      type: 'ceremony.round2',
      ceremonyId: this.ceremonyId,
      transcriptHash: this.transcriptHash,
      shares,
    };
    this.lastAnswer = { digest: digestOf(frame), frame: out };
    return out;
  }

  /** Round 3: opens and checks the shares addressed to this node, derives and stores its share; returns the signed result. */
  async handleRound2All(frame: CeremonyRound2AllFrame): Promise<CeremonyResult> {
    if (this.phase !== 'awaiting-round2' || !this.secret || !this.othersRound1) {
      abort('INTERNAL', `unexpected ceremony.round2.all in phase ${this.phase}`);
    }
    if (frame.transcriptHash !== this.transcriptHash) {
      abort('TRANSCRIPT_MISMATCH', `the agreed transcript hash ${frame.transcriptHash} is not this node's ${this.transcriptHash}`);
    }
    const byId = new Map(this.participants.map((p) => [p.identifier, p]));
    const received = new Map<string, SealedRound2>();
    for (const share of frame.shares) {
      if (share.to !== this.me.identifier) abort('UNDECRYPTABLE_SHARE', `a share addressed to ${share.to} was relayed to this node`);
      if (share.from === this.me.identifier || !byId.has(share.from)) {
        abort('UNDECRYPTABLE_SHARE', `a share claims to come from ${share.from}, not another participant`);
      }
      if (received.has(share.from)) abort('UNDECRYPTABLE_SHARE', `two shares from ${share.from}`, share.from);
      received.set(share.from, share);
    }
    const round2: DKG_Round2[] = [];
    for (const p of this.participants) {
      if (p.identifier === this.me.identifier) continue;
      const sealed = received.get(p.identifier);
      if (!sealed) abort('UNDECRYPTABLE_SHARE', `no share from ${p.identifier}`);
      let plaintext: Uint8Array;
      try {
        const ad = round2AssociatedData(this.ceremonyId, sealed.from, sealed.to, this.me.identityKey);
        plaintext = this.keystore.openFromPeer(sealed, p.identityKey, ad, ROUND2_SEALING_INFO);
      } catch {
        return abort('UNDECRYPTABLE_SHARE', `the share from ${p.identifier} fails authentication`, p.identifier);
      }
      const round1 = this.othersRound1.find((r) => r.identifier === p.identifier)!;
      if (!this.shareMatchesCommitment(plaintext, round1.commitment)) {
        plaintext.fill(0);
        abort('INVALID_SHARE', `the share from ${p.identifier} does not match its commitment`, p.identifier);
      }
      round2.push({ identifier: p.identifier, signingShare: plaintext as Uint8Array<ArrayBuffer> });
    }
    let key;
    try {
      key = this.suite.frost.DKG.round3(this.secret, this.othersRound1, round2);
    } catch (e) {
      abort('INVALID_SHARE', `round 3 failed: ${(e as Error).message}`);
    } finally {
      for (const r of round2) r.signingShare.fill(0);
    }
    const publicPackage: PublicKeyPackage = {
      suite: this.suite.id,
      threshold: this.threshold,
      maxSigners: this.participants.length,
      commitments: key.public.commitments.map(bytesToHex),
      verifyingShares: Object.fromEntries(Object.entries(key.public.verifyingShares).map(([id, v]) => [id, bytesToHex(v)])),
    };
    const share: KeyShare = {
      keyId: this.keyId,
      suite: this.suite.id,
      identifier: this.me.identifier,
      signingShare: bytesToHex(key.secret.signingShare),
      publicPackage,
    };
    key.secret.signingShare.fill(0);
    try {
      // Marked first: a crash between the two leaves a mark without a share, never an unmarked share.
      await this.keystore.markPending(this.keyId);
      await this.keystore.writeShare(share);
    } catch (e) {
      abort('INTERNAL', `could not store the share: ${(e as Error).message}`);
    }
    this.shareStored = true;
    this.end();
    const gpk = groupPublicKey(publicPackage);
    this.groupPublicKey = gpk;
    const signature = this.keystore.signWithIdentity(
      ceremonyResultTranscript({
        ceremonyId: this.ceremonyId,
        keyId: this.keyId,
        groupPublicKey: gpk,
        commitments: publicPackage.commitments,
        verifyingShares: publicPackage.verifyingShares,
      }),
    );
    this.phase = 'awaiting-close';
    this.deadline = frame.deadline;
    const out: Outgoing<CeremonyResultFrame> = {
      type: 'ceremony.result',
      ceremonyId: this.ceremonyId,
      groupPublicKey: gpk,
      commitments: publicPackage.commitments,
      verifyingShares: publicPackage.verifyingShares,
      signature,
    };
    this.lastAnswer = { digest: digestOf(frame), frame: out };
    return { frame: out, groupPublicKey: gpk };
  }

  /** Wipes the DKG secret state (noble's best effort); safe to call more than once. */
  end(): void {
    if (this.secret) {
      try {
        this.suite.frost.DKG.clean(this.secret);
      } catch {
        // already cleaned
      }
      this.secret = undefined;
    }
  }

  /** True when the deadline for the coordinator's next frame has passed. */
  expired(): boolean {
    return this.now() > this.deadline;
  }

  private compareIds(a: string, b: string): number {
    const x = this.suite.identifierValue(a);
    const y = this.suite.identifierValue(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  /** sum_k C_k * me^k == share * G: the sender's share is a point of its committed polynomial. */
  private shareMatchesCommitment(shareBytes: Uint8Array, commitment: Uint8Array[]): boolean {
    try {
      const Fn = this.suite.frost.utils.Fn;
      const Point = this.suite.Point;
      const share = Fn.fromBytes(shareBytes);
      if (share === 0n) return false;
      const x = this.suite.identifierValue(this.me.identifier);
      let acc = Point.ZERO;
      let power = 1n;
      for (const c of commitment) {
        acc = acc.add(Point.fromBytes(c).multiply(power));
        power = Fn.mul(power, x);
      }
      return acc.equals(Point.BASE.multiply(share));
    } catch {
      return false;
    }
  }

  /**
   * noble's round 2 does not say whose proof failed: checks each package alone, in a throwaway DKG
   * state (n-1 copies of one package: a valid proof passes and then trips the duplicate check).
   */
  private findBadProof(others: DKG_Round1[]): string | undefined {
    const dkg = this.suite.frost.DKG;
    for (const p of others) {
      const probe = dkg.round1(this.me.identifier, { min: this.threshold, max: this.participants.length });
      try {
        dkg.round2(
          probe.secret,
          others.map(() => p),
        );
      } catch (e) {
        if (!/duplicate/i.test((e as Error).message)) return p.identifier;
      } finally {
        dkg.clean(probe.secret);
      }
    }
    return undefined;
  }
}

function checkParameters(frame: CeremonyStartFrame, now: number): void {
  const n = frame.participants.length;
  if (frame.threshold < 2 || frame.threshold > n) abort('PARAMETERS_REFUSED', `threshold ${frame.threshold} is outside [2, ${n}]`);
  if (frame.deadline <= now) abort('PARAMETERS_REFUSED', 'the ceremony deadline has already passed');
  const suite = getSuite(frame.suite);
  const ids = new Set<bigint>();
  const keys = new Set<string>();
  const nodeIds = new Set<string>();
  for (const p of frame.participants) {
    let value: bigint;
    try {
      if (p.identifier.length !== suite.identifierBytes * 2) throw new Error('wrong size');
      value = suite.identifierValue(p.identifier);
      suite.assertScalar(p.identifier, 'identifier');
    } catch {
      return abort('PARAMETERS_REFUSED', `identifier ${p.identifier} is not valid for ${suite.id}`);
    }
    if (value === 0n) abort('PARAMETERS_REFUSED', 'identifier zero is not allowed');
    if (ids.has(value)) abort('PARAMETERS_REFUSED', `identifier ${p.identifier} appears twice`);
    if (keys.has(p.identityKey)) abort('PARAMETERS_REFUSED', `identity key ${p.identityKey} appears twice`);
    if (nodeIds.has(p.nodeId)) abort('PARAMETERS_REFUSED', `node ${p.nodeId} appears twice`);
    if (!isValidIdentityKey(p.identityKey)) abort('PARAMETERS_REFUSED', `identity key ${p.identityKey} is not a valid Ed25519 key`);
    ids.add(value);
    keys.add(p.identityKey);
    nodeIds.add(p.nodeId);
  }
}

const toNobleRound1 = (pkg: Round1Package): DKG_Round1 => ({
  identifier: pkg.identifier,
  commitment: pkg.commitment.map(hexToBytes),
  proofOfKnowledge: hexToBytes(pkg.proofOfKnowledge),
});

/** A stable digest of a decoded frame or package (canonical JSON of plain data). */
function digestOf(value: object): string {
  return sha256Hex(canonical(value));
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}
