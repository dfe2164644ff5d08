import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';

/**
 * C2SP `tlog-checkpoint` carried in a C2SP `signed-note`:
 *
 *     <origin>\n<tree size>\n<base64 root hash>\n
 *     \n
 *     — <key name> <base64(4-byte key hash || 64-byte Ed25519 signature)>\n
 *
 * The signature covers the note text (the three body lines, final newline included). For an Ed25519
 * note key the key hash is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || public key).
 */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
}

export interface NoteSigner {
  name: string;
  secretKey: Uint8Array;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

const ED25519_ALG = 0x01;
const enc = new TextEncoder();
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const fromB64 = (s: string): Uint8Array | null => (B64.test(s) && s.length % 4 === 0 ? new Uint8Array(Buffer.from(s, 'base64')) : null);

/** A key name is non-empty, without whitespace or '+'. */
export function assertKeyName(name: string): void {
  if (!/^[^\s+]+$/u.test(name)) throw new CheckpointError(`invalid note key name ${JSON.stringify(name)}`);
}

/** A signed-note key id: SHA-256(name || "\n" || signature type || public key)[0:4] (0x01: Ed25519, 0x04: cosignature/v1). */
export function noteKeyId(name: string, signatureType: number, publicKey: Uint8Array): Uint8Array {
  const n = enc.encode(name);
  const buf = new Uint8Array(n.length + 2 + publicKey.length);
  buf.set(n, 0);
  buf[n.length] = 0x0a;
  buf[n.length + 1] = signatureType;
  buf.set(publicKey, n.length + 2);
  return sha256(buf).slice(0, 4);
}

/** The 4-byte key hash of an Ed25519 note key: SHA-256(name || "\n" || 0x01 || public key)[0:4]. */
export const noteKeyHash = (name: string, publicKey: Uint8Array): Uint8Array => noteKeyId(name, ED25519_ALG, publicKey);

/** A signed note split into its body (final newline included) and its signature lines. */
export function splitNote(note: string): { body: string; lines: string[] } {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new CheckpointError('not a signed note (no blank line before the signatures)');
  return { body: note.slice(0, split + 1), lines: note.slice(split + 2, -1).split('\n') };
}

/** The signed-note verifier key string: `<name>+<hex key hash>+<base64(0x01 || public key)>`. */
export function verifierKey(name: string, publicKey: Uint8Array): string {
  assertKeyName(name);
  return `${name}+${Buffer.from(noteKeyHash(name, publicKey)).toString('hex')}+${b64(Uint8Array.of(ED25519_ALG, ...publicKey))}`;
}

export function checkpointBody(c: Checkpoint): string {
  if (!c.origin || /[\n]/.test(c.origin)) throw new CheckpointError('origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new CheckpointError('size must be a non-negative integer');
  if (c.root.length !== 32) throw new CheckpointError('root must be 32 bytes');
  return `${c.origin}\n${c.size}\n${b64(c.root)}\n`;
}

/** The checkpoint as a signed note, signed by `signer`. */
export function signCheckpoint(c: Checkpoint, signer: NoteSigner): string {
  assertKeyName(signer.name);
  const body = checkpointBody(c);
  const publicKey = ed25519.getPublicKey(signer.secretKey);
  const sig = ed25519.sign(enc.encode(body), signer.secretKey);
  const blob = new Uint8Array(4 + sig.length);
  blob.set(noteKeyHash(signer.name, publicKey), 0);
  blob.set(sig, 4);
  return `${body}\n\u2014 ${signer.name} ${b64(blob)}\n`;
}

/**
 * Parses a signed checkpoint note and checks its signature by (`publicKey`, key name). When `keyName` is
 * omitted, any signature line whose key hash matches the public key under its own name is accepted.
 * Throws CheckpointError with the reason.
 */
export function openCheckpoint(note: string, publicKey: Uint8Array, keyName?: string): Checkpoint & { keyName: string } {
  const { body, lines: sigLines } = splitNote(note);
  let signedBy: string | null = null;
  for (const line of sigLines) {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!m) throw new CheckpointError('malformed signature line');
    const [, name, blobB64] = m as unknown as [string, string, string];
    if (keyName !== undefined && name !== keyName) continue;
    const blob = fromB64(blobB64);
    if (!blob || blob.length !== 68) continue;
    const expected = noteKeyHash(name, publicKey);
    if (!blob.subarray(0, 4).every((b, i) => b === expected[i])) continue;
    let ok = false;
    try {
      ok = ed25519.verify(blob.subarray(4), enc.encode(body), publicKey, { zip215: false });
    } catch {
      ok = false;
    }
    if (!ok) throw new CheckpointError(`bad signature by ${name}`);
    signedBy = name;
    break;
  }
  if (signedBy === null) throw new CheckpointError('checkpoint is not signed by the log key');
  const lines = body.split('\n');
  if (lines.length < 4) throw new CheckpointError('checkpoint body needs origin, size and root');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw new CheckpointError('bad tree size');
  const root = fromB64(rootText);
  if (!root || root.length !== 32) throw new CheckpointError('bad root hash');
  if (!origin) throw new CheckpointError('empty origin');
  return { origin, size: Number(sizeText), root, keyName: signedBy };
}
