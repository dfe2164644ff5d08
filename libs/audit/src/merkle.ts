import { sha256 } from '@noble/hashes/sha2.js';

/**
 * RFC 6962 §2.1 / RFC 9162 §2.1 Merkle tree hashing, written from the RFC text.
 *
 * The leaf data of an audit entry is its entry hash as the chain computes it (`entryHash`, 32 bytes
 * decoded from hex); the tree's leaf `i` is the entry with `seq = i + 1`.
 */
export type Hash = Uint8Array;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

function prefixed(prefix: number, ...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0));
  out[0] = prefix;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** SHA-256(0x00 || data). */
export const leafHash = (data: Uint8Array): Hash => sha256(prefixed(LEAF_PREFIX, data));
/** SHA-256(0x01 || left || right). */
export const nodeHash = (left: Hash, right: Hash): Hash => sha256(prefixed(NODE_PREFIX, left, right));
/** MTH({}) = SHA-256() (e3b0c442...). */
export const EMPTY_TREE_HASH: Hash = sha256(new Uint8Array(0));

/** The largest power of two strictly smaller than n (n > 1). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[size]) over the first `size` (default: all) already-hashed leaves (`leaves[i] = leafHash(d(i))`). */
export function treeHash(leaves: readonly Hash[], size = leaves.length): Hash {
  if (!Number.isSafeInteger(size) || size < 0 || size > leaves.length) throw new MerkleProofError(`no tree of size ${size}`);
  return mth(leaves, 0, size);
}

/**
 * Hashes of complete (power-of-two, aligned) subtrees, per leaves array: they never change while the log
 * only appends, so a caller that keeps one array and appends to it gets O(log n) hashing per proof.
 */
const completeSubtrees = new WeakMap<readonly Hash[], Map<number, Hash>>();

function mth(leaves: readonly Hash[], lo: number, hi: number): Hash {
  const n = hi - lo;
  if (n === 0) return EMPTY_TREE_HASH;
  if (n === 1) return leaves[lo]!;
  const complete = (n & (n - 1)) === 0 && lo % n === 0;
  let cache = completeSubtrees.get(leaves);
  const key = lo * 2 + n; // unique for aligned power-of-two ranges (lo is a multiple of n)
  if (complete) {
    const hit = cache?.get(key);
    if (hit) return hit;
  }
  const k = splitPoint(n);
  const h = nodeHash(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
  if (complete) {
    if (!cache) completeSubtrees.set(leaves, (cache = new Map<number, Hash>()));
    cache.set(key, h);
  }
  return h;
}

export class MerkleProofError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MerkleProofError';
  }
}

/** PATH(m, D[n]) (RFC 6962 §2.1.1): the inclusion proof of leaf m in the tree of the first n leaves. */
export function inclusionProof(leaves: readonly Hash[], index: number, size: number): Hash[] {
  if (!Number.isSafeInteger(size) || size < 1 || size > leaves.length) throw new MerkleProofError(`no tree of size ${size}`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new MerkleProofError(`leaf ${index} is not in a tree of size ${size}`);
  const out: Hash[] = [];
  path(leaves, index, 0, size, out);
  return out;
}

function path(leaves: readonly Hash[], m: number, lo: number, hi: number, out: Hash[]): void {
  const n = hi - lo;
  if (n === 1) return;
  const k = splitPoint(n);
  if (m < k) {
    path(leaves, m, lo, lo + k, out);
    out.push(mth(leaves, lo + k, hi));
  } else {
    path(leaves, m - k, lo + k, hi, out);
    out.push(mth(leaves, lo, lo + k));
  }
}

/** PROOF(m, D[n]) (RFC 6962 §2.1.2): shows that the tree of size m is a prefix of the tree of size n. */
export function consistencyProof(leaves: readonly Hash[], from: number, to: number): Hash[] {
  if (!Number.isSafeInteger(to) || to < 0 || to > leaves.length) throw new MerkleProofError(`no tree of size ${to}`);
  if (!Number.isSafeInteger(from) || from < 0 || from > to) throw new MerkleProofError(`size ${from} is not within 0..${to}`);
  const out: Hash[] = [];
  if (from === 0 || from === to) return out;
  subproof(leaves, from, 0, to, true, out);
  return out;
}

function subproof(leaves: readonly Hash[], m: number, lo: number, hi: number, b: boolean, out: Hash[]): void {
  const n = hi - lo;
  if (m === n) {
    if (!b) out.push(mth(leaves, lo, hi));
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproof(leaves, m, lo, lo + k, b, out);
    out.push(mth(leaves, lo + k, hi));
  } else {
    subproof(leaves, m - k, lo + k, hi, false, out);
    out.push(mth(leaves, lo, lo + k));
  }
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const isHash = (h: unknown): h is Hash => h instanceof Uint8Array && h.length === 32;

/** The reason a proof is refused, or null when it verifies. */
export type ProofVerdict = null | string;

/** RFC 9162 §2.1.3.2: verifies that `leaf` (a leaf hash) is leaf `index` of the tree of `size` with `root`. */
export function verifyInclusion(index: number, size: number, leaf: Hash, proof: readonly Hash[], root: Hash): ProofVerdict {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0) return 'index is not a leaf index';
  if (index >= size) return `leaf ${index} is not in a tree of size ${size}`;
  if (!isHash(leaf) || !isHash(root) || !proof.every(isHash)) return 'hashes must be 32 bytes';
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return 'inclusion proof is too long';
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return 'inclusion proof is too short';
  return equal(r, root) ? null : 'inclusion proof does not lead to the root';
}

/** RFC 9162 §2.1.4.2: verifies that the tree (`from`, `fromRoot`) is a prefix of (`to`, `toRoot`). */
export function verifyConsistency(from: number, to: number, fromRoot: Hash, toRoot: Hash, proof: readonly Hash[]): ProofVerdict {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0) return 'sizes must be non-negative integers';
  if (from > to) return `size ${from} is larger than ${to}`;
  if (!isHash(fromRoot) || !isHash(toRoot) || !proof.every(isHash)) return 'hashes must be 32 bytes';
  if (from === to) {
    if (proof.length > 0) return 'proof between equal sizes must be empty';
    return equal(fromRoot, toRoot) ? null : 'roots differ for the same size';
  }
  if (from === 0) return proof.length === 0 ? null : 'proof from the empty tree must be empty';
  if (proof.length === 0) return 'consistency proof is empty';
  const path = (from & (from - 1)) === 0 ? [fromRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = to - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return 'consistency proof is too long';
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return 'consistency proof is too short';
  if (!equal(fr, fromRoot)) return 'consistency proof does not lead to the old root';
  return equal(sr, toRoot) ? null : 'consistency proof does not lead to the new root';
}
