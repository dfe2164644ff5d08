import { ed25519 } from '@noble/curves/ed25519.js';
import { CheckpointError, assertKeyName, checkpointBody, noteKeyId, splitNote, type Checkpoint } from './checkpoint.js';

/**
 * C2SP `tlog-cosignature` v1 (Ed25519): a witness's statement that, as of `timestamp`, the checkpoint is the
 * largest consistent tree head it has seen for the log. A note signature line
 *
 *     — <cosigner name> base64(key id (4) || timestamp (u64, big-endian) || Ed25519 signature (64))
 *
 * whose key id is SHA-256(name || "\n" || 0x04 || public key)[0:4], and whose signature covers
 * `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint's note body (final newline included).
 *
 * Roundtable's signer nodes cosign with their Ed25519 identity key. Every other message an identity key
 * signs begins `roundtable/`, so the `cosignature/v1` header keeps the two apart.
 */
export interface Cosignature {
  keyName: string;
  /** POSIX seconds. */
  timestamp: number;
  line: string;
}

const COSIGNATURE_ALG = 0x04;
const enc = new TextEncoder();
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The name a signer node cosigns under: derived from its identity key alone, so a verifier given the key knows it. */
export function cosignerName(publicKeyHex: string): string {
  if (!/^[0-9a-f]{64}$/.test(publicKeyHex)) throw new CheckpointError('a cosigner key is 32 bytes of lower-case hex');
  return `roundtable-node/${publicKeyHex.slice(0, 16)}`;
}

/** The 4-byte key id of an Ed25519 cosigner: SHA-256(name || "\n" || 0x04 || public key)[0:4]. */
export const cosignatureKeyId = (name: string, publicKey: Uint8Array): Uint8Array => noteKeyId(name, COSIGNATURE_ALG, publicKey);

/** The bytes a cosigner signs: the header line, the time line, then the checkpoint's note body. */
export function cosignedMessage(body: string, timestamp: number): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new CheckpointError('a cosignature timestamp is a non-negative integer');
  return enc.encode(`cosignature/v1\ntime ${timestamp}\n${body}`);
}

/** Cosigns a checkpoint (its note body) and returns the signature line (without its newline). */
export function cosignCheckpoint(c: Checkpoint, cosigner: { name: string; sign: (message: Uint8Array) => Uint8Array; publicKey: Uint8Array }, timestamp: number): Cosignature {
  assertKeyName(cosigner.name);
  const signature = cosigner.sign(cosignedMessage(checkpointBody(c), timestamp));
  if (signature.length !== 64) throw new CheckpointError('an Ed25519 signature is 64 bytes');
  const blob = new Uint8Array(4 + 8 + 64);
  blob.set(cosignatureKeyId(cosigner.name, cosigner.publicKey), 0);
  new DataView(blob.buffer).setBigUint64(4, BigInt(timestamp), false);
  blob.set(signature, 12);
  return { keyName: cosigner.name, timestamp, line: `\u2014 ${cosigner.name} ${b64(blob)}` };
}

export type CosignatureVerdict = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * Checks one signature line as a cosignature of `body` by (`name`, `publicKey`). A line for another name or
 * key id is `ok: false` with the reason `not this cosigner's line`; a line that is this cosigner's but whose
 * signature fails is the reason `bad cosignature`.
 */
export function verifyCosignatureLine(line: string, body: string, name: string, publicKey: Uint8Array): CosignatureVerdict {
  const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
  if (!m) return { ok: false, reason: 'malformed signature line' };
  const [, lineName, blobB64] = m as unknown as [string, string, string];
  if (lineName !== name) return { ok: false, reason: "not this cosigner's line" };
  if (!B64.test(blobB64) || blobB64.length % 4 !== 0) return { ok: false, reason: 'signature is not base64' };
  const blob = new Uint8Array(Buffer.from(blobB64, 'base64'));
  const keyId = cosignatureKeyId(name, publicKey);
  if (blob.length < 4 || !keyId.every((b, i) => b === blob[i])) return { ok: false, reason: "not this cosigner's line" };
  if (blob.length !== 76) return { ok: false, reason: 'a v1 Ed25519 cosignature is 76 bytes' };
  const ts = new DataView(blob.buffer, blob.byteOffset).getBigUint64(4, false);
  if (ts > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'cosignature timestamp out of range' };
  const timestamp = Number(ts);
  let ok = false;
  try {
    ok = ed25519.verify(blob.subarray(12), cosignedMessage(body, timestamp), publicKey, { zip215: false });
  } catch {
    ok = false;
  }
  return ok ? { ok: true, timestamp } : { ok: false, reason: 'bad cosignature' };
}

/** The note with more signature lines after its own (each line once). */
export function withSignatures(note: string, lines: readonly string[]): string {
  const { lines: present } = splitNote(note);
  const added = lines.filter((l, i) => !present.includes(l) && lines.indexOf(l) === i);
  return added.length === 0 ? note : `${note}${added.join('\n')}\n`;
}
