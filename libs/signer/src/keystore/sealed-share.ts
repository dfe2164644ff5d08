import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { SUITE_IDS, bytesToHex, hexToBytes, utf8, type IdentityKeyPair } from '#crypto';
import { Identifier, hexBytes } from '#protocol';
import { SignerError } from '../signer-error.js';
import { PublicKeyPackageRecord, ShareRecord, type KeyShare } from './keystore-records.js';
import { XCHACHA_NONCE_BYTES, randomAeadNonce } from './passphrase-key.js';

const SEALED_SHARE_FORMAT = 'roundtable-sealed-share';
const SEALED_SHARE_VERSION = 1 as const;
const HKDF_INFO = utf8('roundtable sealed share v1');

/**
 * A share sealed by the dealer to one node's identity key (an inbox file). Public fields say which
 * share it is and for whom; all of them are bound into the AEAD, so none can be swapped.
 * Encryption: ephemeral X25519 with the recipient's identity key converted to Montgomery form,
 * HKDF-SHA256 (salt: ephemeral || recipient X25519 key) to an XChaCha20-Poly1305 key.
 */
const SealedShare = z.strictObject({
  format: z.literal(SEALED_SHARE_FORMAT),
  version: z.literal(SEALED_SHARE_VERSION),
  keyId: z.uuid(),
  suite: z.enum(SUITE_IDS),
  identifier: Identifier,
  /** The recipient's Ed25519 identity public key. */
  recipient: hexBytes(32),
  /** The dealer's ephemeral X25519 public key. */
  ephemeral: hexBytes(32),
  nonce: hexBytes(XCHACHA_NONCE_BYTES),
  ciphertext: z.base64().min(1),
});
type SealedShare = z.infer<typeof SealedShare>;

/** The secret part, encrypted. */
const SealedPayload = z.strictObject({
  signingShare: ShareRecord.shape.signingShare,
  publicPackage: PublicKeyPackageRecord,
});

function associatedData(s: Omit<SealedShare, 'ciphertext'>): Uint8Array {
  const canonical = [s.format, s.version, s.keyId, s.suite, s.identifier, s.recipient, s.ephemeral, s.nonce];
  return utf8(JSON.stringify(canonical));
}

function sealingKey(shared: Uint8Array, ephemeral: Uint8Array, recipientX: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, new Uint8Array([...ephemeral, ...recipientX]), HKDF_INFO, 32);
}

/** Seals `share` so that only the holder of `recipientPublicKey`'s identity secret can open it. */
export function sealShareToIdentity(share: KeyShare, recipientPublicKey: string): string {
  const recipientX = ed25519.utils.toMontgomery(hexToBytes(recipientPublicKey));
  const ephemeral = x25519.keygen();
  const shared = x25519.getSharedSecret(ephemeral.secretKey, recipientX);
  const key = sealingKey(shared, ephemeral.publicKey, recipientX);
  const header = {
    format: SEALED_SHARE_FORMAT,
    version: SEALED_SHARE_VERSION,
    keyId: share.keyId.toLowerCase(),
    suite: share.suite,
    identifier: share.identifier,
    recipient: recipientPublicKey,
    ephemeral: bytesToHex(ephemeral.publicKey),
    nonce: bytesToHex(randomAeadNonce()),
  } as const;
  const payload = utf8(JSON.stringify({ signingShare: share.signingShare, publicPackage: share.publicPackage }));
  const ciphertext = xchacha20poly1305(key, hexToBytes(header.nonce), associatedData(header)).encrypt(payload);
  ephemeral.secretKey.fill(0);
  key.fill(0);
  return `${JSON.stringify({ ...header, ciphertext: Buffer.from(ciphertext).toString('base64') })}\n`;
}

/**
 * Opens a sealed share with this node's identity. Throws SEALED_SHARE_REJECTED when the file is not
 * a sealed share, is for another identity or another key, or fails authentication. The share is
 * not checked against its public package here (the keystore does that before storing it).
 */
export function openSealedShare(text: string, identity: IdentityKeyPair, expectedKeyId: string, what: string): KeyShare {
  const reject = (why: string): never => {
    throw new SignerError('SEALED_SHARE_REJECTED', `${what} is refused: ${why}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return reject('not valid JSON (truncated or not a sealed share)');
  }
  const parsed = SealedShare.safeParse(json);
  if (!parsed.success) return reject(`not a sealed share: ${parsed.error.issues[0]?.path.join('.') ?? ''} invalid`);
  const sealed = parsed.data;
  if (sealed.recipient !== identity.publicKey) return reject(`it is sealed to identity ${sealed.recipient}, not this node's`);
  if (sealed.keyId !== expectedKeyId.toLowerCase()) return reject(`it holds key ${sealed.keyId}, not ${expectedKeyId}`);
  const mySecret = ed25519.utils.toMontgomerySecret(hexToBytes(identity.secretKey));
  let plaintext: Uint8Array;
  try {
    const ephemeral = hexToBytes(sealed.ephemeral);
    const shared = x25519.getSharedSecret(mySecret, ephemeral);
    const key = sealingKey(shared, ephemeral, ed25519.utils.toMontgomery(hexToBytes(identity.publicKey)));
    plaintext = xchacha20poly1305(key, hexToBytes(sealed.nonce), associatedData(sealed)).decrypt(Buffer.from(sealed.ciphertext, 'base64'));
    key.fill(0);
  } catch {
    return reject('it fails authentication (altered, or not sealed to this identity)');
  } finally {
    mySecret.fill(0);
  }
  let payload: z.infer<typeof SealedPayload>;
  try {
    payload = SealedPayload.parse(JSON.parse(new TextDecoder().decode(plaintext)));
  } catch {
    return reject('its contents are not a share');
  }
  return {
    keyId: sealed.keyId,
    suite: sealed.suite,
    identifier: sealed.identifier,
    signingShare: payload.signingShare,
    publicPackage: payload.publicPackage,
  };
}

/** Bytes sealed to an identity key: ephemeral X25519 key, AEAD nonce and ciphertext, all hex. */
export interface SealedBox {
  ephemeral: string;
  nonce: string;
  ciphertext: string;
}

/**
 * Seals `plaintext` from one identity to another with the primitives of the sealed share: an
 * ephemeral X25519 key agreement with the recipient's identity key, plus a static one between the
 * sender's and the recipient's identity keys so that only the sender could have sealed it (the
 * coordinator relaying it can neither read nor forge it). HKDF-SHA256 (ikm: both shared secrets;
 * salt: ephemeral || recipient || sender X25519 keys; `info` separates the uses) to an
 * XChaCha20-Poly1305 key over `associatedData`.
 */
export function sealBetweenIdentities(
  plaintext: Uint8Array,
  sender: IdentityKeyPair,
  recipientPublicKey: string,
  associatedData: Uint8Array,
  info: Uint8Array,
): SealedBox {
  const recipientX = ed25519.utils.toMontgomery(hexToBytes(recipientPublicKey));
  const senderX = ed25519.utils.toMontgomery(hexToBytes(sender.publicKey));
  const senderSecret = ed25519.utils.toMontgomerySecret(hexToBytes(sender.secretKey));
  const ephemeral = x25519.keygen();
  const sharedE = x25519.getSharedSecret(ephemeral.secretKey, recipientX);
  const sharedS = x25519.getSharedSecret(senderSecret, recipientX);
  const key = boxKey(sharedE, sharedS, ephemeral.publicKey, recipientX, senderX, info);
  const nonce = randomAeadNonce();
  const ciphertext = xchacha20poly1305(key, nonce, associatedData).encrypt(plaintext);
  for (const secret of [ephemeral.secretKey, senderSecret, sharedE, sharedS, key]) secret.fill(0);
  return { ephemeral: bytesToHex(ephemeral.publicKey), nonce: bytesToHex(nonce), ciphertext: bytesToHex(ciphertext) };
}

/** Opens a box sealed by `sealBetweenIdentities` from `senderPublicKey` to `recipient`; throws when it fails authentication. */
export function openBetweenIdentities(
  box: SealedBox,
  recipient: IdentityKeyPair,
  senderPublicKey: string,
  associatedData: Uint8Array,
  info: Uint8Array,
): Uint8Array {
  const mySecret = ed25519.utils.toMontgomerySecret(hexToBytes(recipient.secretKey));
  let sharedE: Uint8Array | undefined;
  let sharedS: Uint8Array | undefined;
  let key: Uint8Array | undefined;
  try {
    const ephemeral = hexToBytes(box.ephemeral);
    const senderX = ed25519.utils.toMontgomery(hexToBytes(senderPublicKey));
    const recipientX = ed25519.utils.toMontgomery(hexToBytes(recipient.publicKey));
    sharedE = x25519.getSharedSecret(mySecret, ephemeral);
    sharedS = x25519.getSharedSecret(mySecret, senderX);
    key = boxKey(sharedE, sharedS, ephemeral, recipientX, senderX, info);
    return xchacha20poly1305(key, hexToBytes(box.nonce), associatedData).decrypt(hexToBytes(box.ciphertext));
  } finally {
    for (const secret of [mySecret, sharedE, sharedS, key]) secret?.fill(0);
  }
}

function boxKey(
  sharedE: Uint8Array,
  sharedS: Uint8Array,
  ephemeral: Uint8Array,
  recipientX: Uint8Array,
  senderX: Uint8Array,
  info: Uint8Array,
): Uint8Array {
  const ikm = new Uint8Array([...sharedE, ...sharedS]);
  try {
    return hkdf(sha256, ikm, new Uint8Array([...ephemeral, ...recipientX, ...senderX]), info, 32);
  } finally {
    ikm.fill(0);
  }
}
