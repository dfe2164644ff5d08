import type { FrostPublic } from '@noble/curves/abstract/frost.js';
import { expect } from 'vitest';
import {
  bytesToHex,
  ceremonyAgreementTranscript,
  ceremonyResultTranscript,
  ceremonyRound1Transcript,
  ceremonyTranscript,
  getSuite,
  hexToBytes,
  identitySign,
  identityVerify,
  round2AssociatedData,
  sha256Hex,
  type IdentityKeyPair,
} from '#crypto';
import type {
  CeremonyParticipant,
  CeremonyRound1AllFrame,
  CeremonyRound2AllFrame,
  CeremonyStartFrame,
  SealedRound2,
  SignedRound1,
} from '#protocol';
import { ROUND2_SEALING_INFO } from '#signer';
import { openBetweenIdentities, sealBetweenIdentities } from '../../libs/signer/src/keystore/sealed-share.js';
import type { RawNode } from './raw-node.js';

/**
 * A DKG participant scripted by a test over a raw connection: it follows the protocol, or breaks it
 * where the test says (wrong transcript hash, tampered sealed shares, a package signed for another ceremony).
 * It seals round-2 shares as signer nodes do (protocol 13.4), so it can take part with real signer nodes.
 */
export function seal(ceremonyId: string, from: IdentityKeyPair & { identifier: string }, to: string, recipientIdentityKey: string, plaintext: Uint8Array): SealedRound2 {
  const box = sealBetweenIdentities(plaintext, from, recipientIdentityKey, round2AssociatedData(ceremonyId, from.identifier, to, recipientIdentityKey), ROUND2_SEALING_INFO);
  return { from: from.identifier, to, ...box };
}

export function open(ceremonyId: string, me: IdentityKeyPair, senderIdentityKey: string, sealed: SealedRound2): Uint8Array {
  return openBetweenIdentities(sealed, me, senderIdentityKey, round2AssociatedData(ceremonyId, sealed.from, sealed.to, me.publicKey), ROUND2_SEALING_INFO);
}

// ---------------------------------------------------------------- a scripted DKG participant over a raw connection

type Dkg = ReturnType<typeof getSuite>['frost']['DKG'];
type DkgSecret = Parameters<Dkg['round2']>[0];

export class ScriptedParticipant {
  start!: CeremonyStartFrame;
  me!: CeremonyParticipant;
  secret!: DkgSecret;
  signed!: SignedRound1;
  round1All!: SignedRound1[];
  /** Every secret this node handled: the plaintext round-2 shares it sent and received, and its final share. */
  readonly secrets: string[] = [];
  derived: FrostPublic | null = null;

  constructor(
    readonly node: RawNode,
    readonly identity: IdentityKeyPair,
    readonly nodeId: string,
  ) {}

  get dkg(): Dkg {
    return getSuite(this.start.suite).frost.DKG;
  }

  async receiveStart(ceremonyId: string): Promise<CeremonyStartFrame> {
    this.start = await this.node.next('ceremony.start', (f) => f.ceremonyId === ceremonyId);
    this.me = this.start.participants.find((p) => p.nodeId === this.nodeId)!;
    return this.start;
  }

  /** Makes (and remembers) this node's signed round-1 package for the started ceremony. */
  makeRound1(signForCeremony = this.start.ceremonyId): SignedRound1 {
    const { public: pub, secret } = this.dkg.round1(this.me.identifier, { min: this.start.threshold, max: this.start.participants.length });
    this.secret = secret;
    const pkg = { identifier: pub.identifier, commitment: pub.commitment.map(bytesToHex), proofOfKnowledge: bytesToHex(pub.proofOfKnowledge) };
    this.signed = { package: pkg, signature: identitySign(this.identity.secretKey, ceremonyRound1Transcript(signForCeremony, pkg)) };
    return this.signed;
  }

  sendRound1(signed: SignedRound1 = this.signed): void {
    this.node.send({ type: 'ceremony.round1', ceremonyId: this.start.ceremonyId, round1: signed });
  }

  transcriptHash(all: SignedRound1[]): string {
    const s = this.start;
    return sha256Hex(ceremonyTranscript({ ceremonyId: s.ceremonyId, keyId: s.keyId, suite: s.suite, threshold: s.threshold, participants: s.participants, round1: all }));
  }

  /** This node's identity signature over a transcript hash (`ceremonyAgreementTranscript`). */
  signTranscriptHash(transcriptHash: string, ceremonyId = this.start.ceremonyId): string {
    return identitySign(this.identity.secretKey, ceremonyAgreementTranscript({ ceremonyId, identifier: this.me.identifier, transcriptHash }));
  }

  async round2(options: { transcriptHash?: string; transcriptSignature?: string; tamper?: boolean } = {}): Promise<void> {
    const all: CeremonyRound1AllFrame = await this.node.next('ceremony.round1.all', (f) => f.ceremonyId === this.start.ceremonyId);
    this.round1All = all.packages;
    const others = all.packages.filter((p) => p.package.identifier !== this.me.identifier).map((p) => this.toNoble(p));
    const shares = this.dkg.round2(this.secret, others);
    const sealed = Object.entries(shares).map(([to, share]) => {
      this.secrets.push(bytesToHex(share.signingShare));
      const recipient = this.start.participants.find((p) => p.identifier === to)!;
      const sealedShare = seal(this.start.ceremonyId, { ...this.identity, identifier: this.me.identifier }, to, recipient.identityKey, share.signingShare);
      if (!options.tamper) return sealedShare;
      const flipped = (parseInt(sealedShare.ciphertext.slice(0, 2), 16) ^ 0x01).toString(16).padStart(2, '0');
      return { ...sealedShare, ciphertext: flipped + sealedShare.ciphertext.slice(2) };
    });
    const transcriptHash = options.transcriptHash ?? this.transcriptHash(all.packages);
    this.node.send({
      type: 'ceremony.round2',
      ceremonyId: this.start.ceremonyId,
      transcriptHash,
      transcriptSignature: options.transcriptSignature ?? this.signTranscriptHash(transcriptHash),
      shares: sealed,
    });
  }

  async round3(): Promise<void> {
    const r2: CeremonyRound2AllFrame = await this.node.next('ceremony.round2.all', (f) => f.ceremonyId === this.start.ceremonyId);
    // Every participant's hash, signed by its identity key, equal to this node's own.
    const mine = this.transcriptHash(this.round1All);
    expect(r2.transcriptHash).toBe(mine);
    expect(r2.transcripts.map((t) => t.identifier)).toEqual(this.round1All.map((p) => p.package.identifier));
    for (const t of r2.transcripts) {
      const key = this.start.participants.find((p) => p.identifier === t.identifier)!.identityKey;
      expect(t.transcriptHash).toBe(mine);
      expect(identityVerify(key, ceremonyAgreementTranscript({ ceremonyId: this.start.ceremonyId, identifier: t.identifier, transcriptHash: t.transcriptHash }), t.signature)).toBe(true);
    }
    const received = r2.shares.map((s) => {
      expect(s.to).toBe(this.me.identifier);
      const sender = this.start.participants.find((p) => p.identifier === s.from)!;
      const signingShare = open(this.start.ceremonyId, this.identity, sender.identityKey, s);
      this.secrets.push(bytesToHex(signingShare));
      return { identifier: s.from, signingShare };
    });
    const others = this.round1All.filter((p) => p.package.identifier !== this.me.identifier).map((p) => this.toNoble(p));
    const key = this.dkg.round3(this.secret, others, received);
    this.secrets.push(bytesToHex(key.secret.signingShare));
    this.derived = key.public;
    const commitments = key.public.commitments.map(bytesToHex);
    const verifyingShares = Object.fromEntries(Object.entries(key.public.verifyingShares).map(([id, v]) => [id, bytesToHex(v)]));
    const groupPublicKey = getSuite(this.start.suite).encodeGroupPublicKey(commitments[0]!);
    const transcript = ceremonyResultTranscript({ ceremonyId: this.start.ceremonyId, keyId: this.start.keyId, groupPublicKey, commitments, verifyingShares });
    this.node.send({
      type: 'ceremony.result',
      ceremonyId: this.start.ceremonyId,
      groupPublicKey,
      commitments,
      verifyingShares,
      signature: identitySign(this.identity.secretKey, transcript),
    });
  }

  /** Asks how the ceremony ended (`ceremony.query`). */
  query(): void {
    this.node.send({ type: 'ceremony.query', ceremonyId: this.start.ceremonyId });
  }

  closed(timeoutMs = 10_000) {
    return this.node.next('ceremony.closed', (f) => f.ceremonyId === this.start.ceremonyId, timeoutMs);
  }

  private toNoble(p: SignedRound1) {
    return { identifier: p.package.identifier, commitment: p.package.commitment.map(hexToBytes), proofOfKnowledge: hexToBytes(p.package.proofOfKnowledge) };
  }
}

