import type { DKG_Round1, DKG_Round2, DKG_Secret } from '@noble/curves/abstract/frost.js';
import {
  bytesToHex,
  canonicalJson,
  ceremonyAgreementTranscript,
  ceremonyRound1Transcript,
  ceremonyTranscript,
  compareIdentifiers,
  dkgShareMatchesCommitment,
  getSuite,
  sha256Hex,
  utf8,
  round2AssociatedData,
  type PublicKeyPackage,
  type Suite,
} from '#crypto';
import type {
  CeremonyParticipant as ParticipantEntry,
  CeremonyResultFrame,
  CeremonyRound1AllFrame,
  CeremonyRound1Frame,
  CeremonyRound2AllFrame,
  CeremonyRound2Frame,
  CeremonyStartFrame,
  Outgoing,
  Round1Package,
  SealedRound2,
  SignedRound1,
} from '#protocol';
import type { KeyShare } from '../keystore/keystore-records.js';
import type { SealedBox } from '../keystore/sealed-share.js';
import { abort } from './ceremony-abort.js';
import { checkParameters, checkRound1Set, checkTranscripts, sharesBySender, toNobleRound1 } from './ceremony-checks.js';
import { resultFrame, type HeldCeremony } from './ceremony-close.js';

/** HKDF info of the round-2 share sealing (separates it from the dealer's sealed shares). */
export const ROUND2_SEALING_INFO = utf8('roundtable dkg round2 v1');

/** What the participant needs from the keystore: the identity (sign, open) and share storage. */
export interface CeremonyKeystore {
  readonly publicKey: string;
  signWithIdentity(message: Uint8Array): string;
  sealToPeer(plaintext: Uint8Array, recipientPublicKey: string, associatedData: Uint8Array, info: Uint8Array): SealedBox;
  openFromPeer(box: SealedBox, senderPublicKey: string, associatedData: Uint8Array, info: Uint8Array): Uint8Array;
  writeShare(share: KeyShare): Promise<void>;
  /** Marks the key unconfirmed, recording the ceremony its share comes from. */
  markPending(keyId: string, ceremony: { ceremonyId: string; participants: ParticipantEntry[] }): Promise<void>;
  clearPending(keyId: string): Promise<void>;
  findShare(keyId: string): Promise<KeyShare | null>;
}

export interface CeremonyPolicy {
  /** False: every ceremony is refused (PARAMETERS_REFUSED). */
  acceptCeremonies: boolean;
  now: () => number;
  /** The node id the coordinator assigned this node, when known: its entry must carry it. */
  nodeId?: string;
}

/** Waiting for `ceremony.round1.all`, for `ceremony.round2.all`, or done (its result sent, or stopped). */
export type CeremonyPhase = 'awaiting-round1' | 'awaiting-round2' | 'ended';

export interface CeremonyResult {
  frame: Outgoing<CeremonyResultFrame>;
  /** The stored share's ceremony and public package, to judge the coordinator's `ceremony.closed` by. */
  held: HeldCeremony;
  publicPackage: PublicKeyPackage;
}

type Answer = Outgoing<CeremonyRound1Frame | CeremonyRound2Frame | CeremonyResultFrame>;

const digestOf = (value: object): string => sha256Hex(canonicalJson(value));

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

  private secret?: DKG_Secret;
  private readonly ownRound1: SignedRound1;
  private transcriptHash?: string;
  private round1?: SignedRound1[];
  /** The last frame received and the answer sent, to answer an exact duplicate identically. */
  private lastAnswer?: { digest: string; frame: Answer };

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
  repeatedAnswer(frame: object): Answer | undefined {
    return this.lastAnswer?.digest === digestOf(frame) ? this.lastAnswer.frame : undefined;
  }

  /** Round 2: checks the relayed round-1 set, fixes and signs the transcript hash, seals one share per other participant. */
  handleRound1All(frame: CeremonyRound1AllFrame): Outgoing<CeremonyRound2Frame> {
    if (this.phase !== 'awaiting-round1' || !this.secret) abort('INTERNAL', `unexpected ceremony.round1.all in phase ${this.phase}`);
    const { ceremonyId, suite, threshold, participants } = this;
    checkRound1Set({ ceremonyId, suite, threshold, participants, own: this.ownRound1, packages: frame.packages });
    const packages = [...frame.packages].sort((a, b) => compareIdentifiers(suite.id, a.package.identifier, b.package.identifier));
    const transcriptHash = sha256Hex(ceremonyTranscript({ ceremonyId, keyId: this.keyId, suite: suite.id, threshold, participants, round1: packages }));
    const others = packages.filter((s) => s.package.identifier !== this.me.identifier);
    let round2: Record<string, DKG_Round2>;
    try {
      round2 = suite.frost.DKG.round2(
        this.secret,
        others.map((s) => toNobleRound1(s.package)),
      );
    } catch (e) {
      abort('BAD_PROOF', `round 2 failed: ${(e as Error).message}`, this.findBadProof(others.map((s) => toNobleRound1(s.package))));
    }
    const shares: SealedRound2[] = [];
    for (const p of participants) {
      if (p.identifier === this.me.identifier) continue;
      const pkg = round2[p.identifier];
      if (!pkg) abort('INTERNAL', `noble produced no round-2 share for ${p.identifier}`);
      const ad = round2AssociatedData(ceremonyId, this.me.identifier, p.identifier, p.identityKey);
      const box = this.keystore.sealToPeer(pkg.signingShare, p.identityKey, ad, ROUND2_SEALING_INFO);
      pkg.signingShare.fill(0);
      shares.push({ from: this.me.identifier, to: p.identifier, ...box });
    }
    shares.sort((a, b) => compareIdentifiers(suite.id, a.to, b.to));
    this.transcriptHash = transcriptHash;
    this.round1 = packages;
    this.phase = 'awaiting-round2';
    this.deadline = frame.deadline;
    const out: Outgoing<CeremonyRound2Frame> = {
      type: 'ceremony.round2',
      ceremonyId,
      transcriptHash,
      transcriptSignature: this.keystore.signWithIdentity(ceremonyAgreementTranscript({ ceremonyId, identifier: this.me.identifier, transcriptHash })),
      shares,
    };
    this.lastAnswer = { digest: digestOf(frame), frame: out };
    return out;
  }

  /**
   * Round 3: checks that every participant signed this node's transcript hash, opens and checks the
   * shares addressed to it, derives and stores its share (marked pending); returns the signed result.
   */
  async handleRound2All(frame: CeremonyRound2AllFrame): Promise<CeremonyResult> {
    if (this.phase !== 'awaiting-round2' || !this.secret || !this.round1 || !this.transcriptHash) {
      abort('INTERNAL', `unexpected ceremony.round2.all in phase ${this.phase}`);
    }
    const { ceremonyId, participants } = this;
    checkTranscripts({ ceremonyId, participants, ownHash: this.transcriptHash, agreedHash: frame.transcriptHash, transcripts: frame.transcripts });
    const received = sharesBySender(participants, this.me.identifier, frame.shares);
    const others = this.round1.filter((s) => s.package.identifier !== this.me.identifier);
    const round2: DKG_Round2[] = [];
    try {
      for (const { package: pkg } of others) {
        const sender = participants.find((p) => p.identifier === pkg.identifier)!;
        const sealed = received.get(pkg.identifier);
        if (!sealed) abort('UNDECRYPTABLE_SHARE', `no share from ${pkg.identifier}`);
        let plaintext: Uint8Array;
        try {
          const ad = round2AssociatedData(ceremonyId, sealed.from, sealed.to, this.me.identityKey);
          plaintext = this.keystore.openFromPeer(sealed, sender.identityKey, ad, ROUND2_SEALING_INFO);
        } catch {
          return abort('UNDECRYPTABLE_SHARE', `the share from ${pkg.identifier} fails authentication`, pkg.identifier);
        }
        round2.push({ identifier: pkg.identifier, signingShare: plaintext as Uint8Array<ArrayBuffer> });
        if (!dkgShareMatchesCommitment(this.suite.id, this.me.identifier, plaintext, pkg.commitment)) {
          abort('INVALID_SHARE', `the share from ${pkg.identifier} does not match its commitment`, pkg.identifier);
        }
      }
      return await this.derive(frame, others, round2);
    } finally {
      for (const r of round2) r.signingShare.fill(0);
    }
  }

  /** Wipes the DKG secret state (noble's best effort); safe to call more than once. */
  end(): void {
    this.phase = 'ended';
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

  /** DKG.round3, then the share stored (pending) and the result signed. */
  private async derive(frame: CeremonyRound2AllFrame, others: SignedRound1[], round2: DKG_Round2[]): Promise<CeremonyResult> {
    let key;
    try {
      key = this.suite.frost.DKG.round3(
        this.secret!,
        others.map((s) => toNobleRound1(s.package)),
        round2,
      );
    } catch (e) {
      abort('INVALID_SHARE', `round 3 failed: ${(e as Error).message}`);
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
    const held: HeldCeremony = { ceremonyId: this.ceremonyId, keyId: this.keyId, participants: this.participants };
    try {
      // Marked first: a crash between the two leaves a mark without a share, never an unmarked share.
      await this.keystore.markPending(this.keyId, { ceremonyId: this.ceremonyId, participants: this.participants });
      await this.keystore.writeShare(share);
    } catch (e) {
      await this.keystore.clearPending(this.keyId).catch(() => undefined);
      abort('INTERNAL', `could not store the share: ${(e as Error).message}`);
    }
    this.end();
    this.deadline = frame.deadline;
    const out = resultFrame(held, publicPackage, (m) => this.keystore.signWithIdentity(m));
    this.lastAnswer = { digest: digestOf(frame), frame: out };
    return { frame: out, held, publicPackage };
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
