import { GENESIS_HASH, entryHash } from './chain.js';
import { CheckpointError, openCheckpoint, splitNote } from './checkpoint.js';
import { cosignerName, verifyCosignatureLine } from './cosignature.js';
import { bytesToHex, hexToBytes } from '#crypto';
import { inclusionProof, leafHash, verifyInclusion, type Hash } from './merkle.js';

/** An audit entry as the REST API serializes it (`AuditEntryResponse`). */
export interface BundleEntry {
  seq: number;
  id: string;
  occurredAt: string;
  actor: { kind: string; id: string };
  action: string;
  outcome: string;
  keyId: string | null;
  requestId: string | null;
  attemptId: string | null;
  nodeId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface BundleProof {
  seq: number;
  treeSize: number;
  /** PATH(seq - 1, D[treeSize]), hex. */
  hashes: string[];
}

/** `GET /v1/audit/bundle`: entries, the checkpoint that covers them, an inclusion proof per entry. */
export interface AuditBundle {
  checkpoint: { note: string };
  entries: BundleEntry[];
  proofs: BundleProof[];
}

export type BundleVerdict =
  | { ok: true; origin: string; keyName: string; treeSize: number; entries: number; witnessedBy: string[] }
  | { ok: false; reason: string };

/** A witness the verifier trusts: its Ed25519 public key (a signer node's identity key) and its name. */
export interface TrustedWitness {
  publicKey: Uint8Array;
  /** Defaults to the name a Roundtable node cosigns under (`cosignerName`). */
  name?: string;
}

export interface BundleTrust {
  witnesses?: readonly TrustedWitness[];
  /** How many of `witnesses` must have cosigned the checkpoint (default: all of them). */
  minWitnesses?: number;
}

/** The tree's leaf data for an entry: its chain hash (32 bytes). */
export const entryLeafHash = (hash: string): Uint8Array => leafHash(hexToBytes(hash));

const HEX32 = /^[0-9a-f]{64}$/;

/**
 * Checks a bundle offline with only the log's public key and the witnesses' keys: the checkpoint's
 * signature, its cosignatures (at least `minWitnesses` of the trusted witnesses; a line that is a trusted
 * witness's but does not verify fails the bundle), every entry's chain hash (and the links between
 * consecutive entries), and every inclusion proof against the checkpoint root.
 */
export function verifyBundle(bundle: AuditBundle, logPublicKey: Uint8Array, trust: BundleTrust = {}): BundleVerdict {
  const fail = (reason: string): BundleVerdict => ({ ok: false, reason });
  let cp;
  try {
    cp = openCheckpoint(bundle.checkpoint.note, logPublicKey);
  } catch (e) {
    if (e instanceof CheckpointError) return fail(`checkpoint: ${e.message}`);
    throw e;
  }
  const witnesses = trust.witnesses ?? [];
  const required = trust.minWitnesses ?? witnesses.length;
  if (required > witnesses.length) return fail(`${required} witnesses required but only ${witnesses.length} trusted`);
  const { body, lines } = splitNote(bundle.checkpoint.note);
  const witnessedBy: string[] = [];
  for (const w of witnesses) {
    const name = w.name ?? cosignerName(bytesToHex(w.publicKey));
    for (const line of lines) {
      const v = verifyCosignatureLine(line, body, name, w.publicKey);
      if (v.ok) {
        witnessedBy.push(name);
        break;
      }
      if (v.reason !== "not this cosigner's line") return fail(`cosignature by ${name}: ${v.reason}`);
    }
  }
  if (witnessedBy.length < required) {
    return fail(`the checkpoint is cosigned by ${witnessedBy.length} of the trusted witnesses, ${required} required${witnessedBy.length ? ` (${witnessedBy.join(', ')})` : ''}`);
  }
  const { entries, proofs } = bundle;
  if (proofs.length !== entries.length) return fail(`${entries.length} entries but ${proofs.length} proofs`);
  let prev: BundleEntry | null = null;
  for (const [i, e] of entries.entries()) {
    const at = `entry seq ${e.seq}`;
    if (!HEX32.test(e.hash) || !HEX32.test(e.prevHash)) return fail(`${at}: malformed hash`);
    if (prev && e.seq !== prev.seq + 1) return fail(`${at}: follows seq ${prev.seq} (entries missing or out of order)`);
    if (prev && e.prevHash !== prev.hash) return fail(`${at}: prevHash does not link to the previous entry`);
    if (e.seq === 1 && e.prevHash !== GENESIS_HASH) return fail(`${at}: the first entry must link to the genesis hash`);
    // entryHash reads the chained fields by name: the API's shape only renames the actor and the time.
    const recomputed = entryHash({ ...e, occurredAt: new Date(e.occurredAt), actorKind: e.actor.kind, actorId: e.actor.id });
    if (recomputed !== e.hash) return fail(`${at}: hash does not match the entry's contents`);
    const p = proofs[i]!;
    if (p.seq !== e.seq) return fail(`proof ${i} is for seq ${p.seq}, not for ${at}`);
    if (p.treeSize !== cp.size) return fail(`${at}: proof is for tree size ${p.treeSize}, the checkpoint is for ${cp.size}`);
    if (!p.hashes.every((h) => HEX32.test(h))) return fail(`${at}: malformed proof hash`);
    const verdict = verifyInclusion(e.seq - 1, cp.size, entryLeafHash(e.hash), p.hashes.map(hexToBytes), cp.root);
    if (verdict) return fail(`${at}: ${verdict}`);
    prev = e;
  }
  return { ok: true, origin: cp.origin, keyName: cp.keyName, treeSize: cp.size, entries: entries.length, witnessedBy };
}

/** The inclusion proof of each entry in the tree of `treeSize` built over `leaves` (leaf i = seq i + 1). */
export function proofsFor(entries: readonly { seq: number }[], leaves: readonly Hash[], treeSize: number): BundleProof[] {
  return entries.map((e) => ({ seq: e.seq, treeSize, hashes: inclusionProof(leaves, e.seq - 1, treeSize).map(bytesToHex) }));
}
