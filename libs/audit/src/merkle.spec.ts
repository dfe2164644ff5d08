import { bytesToHex, hexToBytes } from '#crypto';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_TREE_HASH,
  consistencyProof,
  inclusionProof,
  leafHash,
  treeHash,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from './merkle.js';

// The certificate-transparency / Trillian reference corpus (RFC 6962 test data): eight leaves.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) =>
  leafHash(hexToBytes(h)),
);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const INCLUSION: Array<{ index: number; size: number; proof: string[] }> = [
  { index: 0, size: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { index: 5, size: 8, proof: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  { index: 1, size: 5, proof: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
];
const CONSISTENCY: Array<{ from: number; to: number; proof: string[] }> = [
  { from: 1, to: 1, proof: [] },
  { from: 1, to: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { from: 6, to: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { from: 2, to: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
];

const hex = (hs: Hash[]) => hs.map(bytesToHex);
const flip = (h: Hash): Hash => {
  const c = Uint8Array.from(h);
  c[0] = c[0]! ^ 1;
  return c;
};

describe('RFC 6962 Merkle tree', () => {
  it('computes the reference roots for every size of the eight-leaf corpus', () => {
    expect(bytesToHex(EMPTY_TREE_HASH)).toBe(ROOTS[0]);
    for (let n = 0; n <= 8; n++) expect(bytesToHex(treeHash(LEAVES.slice(0, n))), `size ${n}`).toBe(ROOTS[n]);
    for (let n = 0; n <= 8; n++) expect(bytesToHex(treeHash(LEAVES, n)), `size ${n} of 8`).toBe(ROOTS[n]);
    expect(() => treeHash(LEAVES, 9)).toThrow();
  });

  it.each(INCLUSION)('produces and accepts the reference inclusion proof of leaf $index in size $size', ({ index, size, proof }) => {
    expect(hex(inclusionProof(LEAVES, index, size))).toEqual(proof);
    expect(verifyInclusion(index, size, LEAVES[index]!, proof.map(hexToBytes), hexToBytes(ROOTS[size]!))).toBeNull();
  });

  it.each(CONSISTENCY)('produces and accepts the reference consistency proof $from -> $to', ({ from, to, proof }) => {
    expect(hex(consistencyProof(LEAVES, from, to))).toEqual(proof);
    expect(verifyConsistency(from, to, hexToBytes(ROOTS[from]!), hexToBytes(ROOTS[to]!), proof.map(hexToBytes))).toBeNull();
  });

  it('verifies every inclusion and consistency proof for every size up to 200, and refuses tampered ones', { timeout: 120_000 }, () => {
    const leaves = Array.from({ length: 200 }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
    const roots = Array.from({ length: 201 }, (_, n) => treeHash(leaves.slice(0, n)));
    const wrong: string[] = [];
    const accept = (v: string | null, what: string) => v === null || wrong.push(`refused ${what}: ${v}`);
    const refuse = (v: string | null, what: string) => v !== null || wrong.push(`accepted ${what}`);
    for (let size = 1; size <= 200; size++) {
      const root = roots[size]!;
      for (let i = 0; i < size; i++) {
        const leaf = leaves[i]!;
        const proof = inclusionProof(leaves, i, size);
        const at = `leaf ${i} in ${size}`;
        accept(verifyInclusion(i, size, leaf, proof, root), at);
        refuse(verifyInclusion(i, size, flip(leaf), proof, root), `other leaf, ${at}`);
        refuse(verifyInclusion(i, size, leaf, proof, flip(root)), `other root, ${at}`);
        refuse(verifyInclusion(i, size, leaf, [...proof, leaf], root), `longer proof, ${at}`);
        if (size > 1) refuse(verifyInclusion(i, size, leaf, proof, roots[size - 1]!), `smaller tree's root, ${at}`);
        if (i + 1 < size) refuse(verifyInclusion(i + 1, size, leaf, proof, root), `other index, ${at}`);
        if (proof.length > 0) {
          refuse(verifyInclusion(i, size, leaf, proof.slice(1), root), `shorter proof, ${at}`);
          refuse(verifyInclusion(i, size, leaf, [flip(proof[0]!), ...proof.slice(1)], root), `changed proof, ${at}`);
        }
        if (proof.length > 1) refuse(verifyInclusion(i, size, leaf, [...proof].reverse(), root), `reversed proof, ${at}`);
      }
      for (let from = 0; from <= size; from++) {
        const proof = consistencyProof(leaves, from, size);
        const at = `${from} -> ${size}`;
        accept(verifyConsistency(from, size, roots[from]!, root, proof), at);
        if (from > 0 && from < size) {
          refuse(verifyConsistency(from, size, flip(roots[from]!), root, proof), `other old root, ${at}`);
          refuse(verifyConsistency(from, size, roots[from]!, flip(root), proof), `other new root, ${at}`);
          refuse(verifyConsistency(from, size, roots[from]!, root, proof.slice(0, -1)), `shorter proof, ${at}`);
          refuse(verifyConsistency(from, size, roots[from]!, root, [...proof, root]), `longer proof, ${at}`);
          refuse(verifyConsistency(from, size, roots[from]!, root, [flip(proof[0]!), ...proof.slice(1)]), `changed proof, ${at}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('refuses out-of-range arguments', () => {
    expect(verifyInclusion(3, 3, LEAVES[0]!, [], hexToBytes(ROOTS[3]!))).toMatch(/not in a tree/);
    expect(verifyInclusion(-1, 3, LEAVES[0]!, [], hexToBytes(ROOTS[3]!))).not.toBeNull();
    expect(verifyConsistency(5, 2, hexToBytes(ROOTS[5]!), hexToBytes(ROOTS[2]!), [])).toMatch(/larger/);
    expect(verifyConsistency(0, 3, EMPTY_TREE_HASH, hexToBytes(ROOTS[3]!), [LEAVES[0]!])).not.toBeNull();
    expect(verifyConsistency(3, 3, hexToBytes(ROOTS[3]!), hexToBytes(ROOTS[4]!), [])).toMatch(/differ/);
    expect(() => inclusionProof(LEAVES, 8, 8)).toThrow();
    expect(() => consistencyProof(LEAVES, 3, 9)).toThrow();
  });
});
