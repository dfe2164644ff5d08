import { randomBytes } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import type { FrostPublic } from '@noble/curves/abstract/frost.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { expect } from 'vitest';
import { bytesToHex, getSuite, hexToBytes, identitySign, sha256Hex, utf8, type IdentityKeyPair } from '#crypto';
import {
  ceremonyResultTranscript,
  ceremonyRound1Transcript,
  ceremonyTranscript,
  round2AssociatedData,
  type CeremonyParticipant,
  type CeremonyRound1AllFrame,
  type CeremonyRound2AllFrame,
  type CeremonyStartFrame,
  type SealedRound2,
  type SignedRound1,
} from '#protocol';
import type { RawNode } from './raw-node.js';

/**
 * A DKG participant scripted by a test over a raw connection: it follows the protocol, or breaks it
 * where the test says (wrong transcript hash, tampered sealed shares, a package signed for another ceremony).
 */
// ---------------------------------------------------------------- sealing (test-only scheme the scripted nodes agree on)

/** X25519 (ephemeral, recipient's identity key as Montgomery) + HKDF-SHA256 + XChaCha20-Poly1305. */
export function seal(ceremonyId: string, from: string, to: string, recipientIdentityKey: string, plaintext: Uint8Array): SealedRound2 {
  const ephemeral = x25519.utils.randomSecretKey();
  const ephemeralPublic = x25519.getPublicKey(ephemeral);
  const shared = x25519.getSharedSecret(ephemeral, ed25519.utils.toMontgomery(hexToBytes(recipientIdentityKey)));
  const key = hkdf(sha256, shared, ephemeralPublic, utf8('roundtable/v1/dkg-round2-seal'), 32);
  const nonce = randomBytes(24);
  const aad = round2AssociatedData(ceremonyId, from, to, recipientIdentityKey);
  const ciphertext = xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
  return { from, to, ephemeral: bytesToHex(ephemeralPublic), nonce: bytesToHex(nonce), ciphertext: bytesToHex(ciphertext) };
}

export function open(ceremonyId: string, me: IdentityKeyPair, sealed: SealedRound2): Uint8Array {
  const ephemeralPublic = hexToBytes(sealed.ephemeral);
  const shared = x25519.getSharedSecret(ed25519.utils.toMontgomerySecret(hexToBytes(me.secretKey)), ephemeralPublic);
  const key = hkdf(sha256, shared, ephemeralPublic, utf8('roundtable/v1/dkg-round2-seal'), 32);
  const aad = round2AssociatedData(ceremonyId, sealed.from, sealed.to, me.publicKey);
  return xchacha20poly1305(key, hexToBytes(sealed.nonce), aad).decrypt(hexToBytes(sealed.ciphertext));
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

  async round2(options: { transcriptHash?: string; tamper?: boolean } = {}): Promise<void> {
    const all: CeremonyRound1AllFrame = await this.node.next('ceremony.round1.all', (f) => f.ceremonyId === this.start.ceremonyId);
    this.round1All = all.packages;
    const others = all.packages.filter((p) => p.package.identifier !== this.me.identifier).map((p) => this.toNoble(p));
    const shares = this.dkg.round2(this.secret, others);
    const sealed = Object.entries(shares).map(([to, share]) => {
      this.secrets.push(bytesToHex(share.signingShare));
      const recipient = this.start.participants.find((p) => p.identifier === to)!;
      const sealedShare = seal(this.start.ceremonyId, this.me.identifier, to, recipient.identityKey, share.signingShare);
      if (!options.tamper) return sealedShare;
      const flipped = (parseInt(sealedShare.ciphertext.slice(0, 2), 16) ^ 0x01).toString(16).padStart(2, '0');
      return { ...sealedShare, ciphertext: flipped + sealedShare.ciphertext.slice(2) };
    });
    this.node.send({
      type: 'ceremony.round2',
      ceremonyId: this.start.ceremonyId,
      transcriptHash: options.transcriptHash ?? this.transcriptHash(all.packages),
      shares: sealed,
    });
  }

  async round3(): Promise<void> {
    const r2: CeremonyRound2AllFrame = await this.node.next('ceremony.round2.all', (f) => f.ceremonyId === this.start.ceremonyId);
    expect(r2.transcriptHash).toBe(this.transcriptHash(this.round1All));
    const received = r2.shares.map((s) => {
      expect(s.to).toBe(this.me.identifier);
      const signingShare = open(this.start.ceremonyId, this.identity, s);
      this.secrets.push(bytesToHex(signingShare));
      return { identifier: s.from, signingShare };
    });
    const others = this.round1All.filter((p) => p.package.identifier !== this.me.identifier).map((p) => this.toNoble(p));
    const key = this.dkg.round3(this.secret, others, received);
    this.secrets.push(bytesToHex(key.secret.signingShare));
    this.derived = key.public;
    const commitments = key.public.commitments.map(bytesToHex);
    const verifyingShares = Object.fromEntries(Object.entries(key.public.verifyingShares).map(([id, v]) => [id, bytesToHex(v)]));
    const groupPublicKey = commitments[0]!;
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

  closed(timeoutMs = 10_000) {
    return this.node.next('ceremony.closed', (f) => f.ceremonyId === this.start.ceremonyId, timeoutMs);
  }

  private toNoble(p: SignedRound1) {
    return { identifier: p.package.identifier, commitment: p.package.commitment.map(hexToBytes), proofOfKnowledge: hexToBytes(p.package.proofOfKnowledge) };
  }
}

