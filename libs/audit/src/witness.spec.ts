import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '#crypto';
import { describe, expect, it } from 'vitest';
import { signCheckpoint, splitNote } from './checkpoint.js';
import { cosignCheckpoint, cosignatureKeyId, cosignerName, verifyCosignatureLine, withSignatures } from './cosignature.js';
import { consistencyProof, leafHash, treeHash } from './merkle.js';
import { witnessCheckpoint, type WitnessedLog } from './witness.js';

const ORIGIN = 'roundtable/test/audit';
const logSecret = ed25519.utils.randomSecretKey();
const logPublic = bytesToHex(ed25519.getPublicKey(logSecret));
const leaves = Array.from({ length: 40 }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
const note = (size: number, ls = leaves, secretKey = logSecret, origin = ORIGIN) => signCheckpoint({ origin, size, root: treeHash(ls, size) }, { name: origin, secretKey });
const proof = (from: number, to: number, ls = leaves) => consistencyProof(ls, from, to).map(bytesToHex);
const stateAt = (size: number, ls = leaves): WitnessedLog => ({ origin: ORIGIN, logPublicKey: logPublic, size, rootHash: bytesToHex(treeHash(ls, size)) });

/** Ed25519 over SPKI DER with node's OpenSSL: a verifier that shares no code with noble. */
function opensslVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]);
  return nodeVerify(null, message, createPublicKey({ key: spki, format: 'der', type: 'spki' }), signature);
}

describe('C2SP tlog-cosignature (Ed25519, v1)', () => {
  const secret = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secret);
  const name = cosignerName(bytesToHex(publicKey));
  const cosigner = { name, publicKey, sign: (m: Uint8Array) => ed25519.sign(m, secret) };

  it('writes key id || big-endian timestamp || signature over "cosignature/v1\\ntime T\\n" and the note body', () => {
    const n = note(7);
    const { body } = splitNote(n);
    const c = cosignCheckpoint({ origin: ORIGIN, size: 7, root: treeHash(leaves, 7) }, cosigner, 1_679_315_147);
    const m = /^\u2014 (\S+) (\S+)$/u.exec(c.line)!;
    expect(m[1]).toBe(name);
    const blob = Buffer.from(m[2]!, 'base64');
    expect(blob).toHaveLength(76);
    const keyId = createHash('sha256').update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([4]), publicKey])).digest().subarray(0, 4);
    expect(blob.subarray(0, 4)).toEqual(keyId);
    expect(Buffer.from(cosignatureKeyId(name, publicKey))).toEqual(keyId);
    expect(blob.readBigUInt64BE(4)).toBe(1_679_315_147n);
    const message = Buffer.from(`cosignature/v1\ntime 1679315147\n${body}`);
    expect(opensslVerify(publicKey, message, blob.subarray(12))).toBe(true);
    expect(verifyCosignatureLine(c.line, body, name, publicKey)).toEqual({ ok: true, timestamp: 1_679_315_147 });
  });

  it('refuses a cosignature of another body, by another key, with a changed timestamp, or a line of another cosigner', () => {
    const c = cosignCheckpoint({ origin: ORIGIN, size: 7, root: treeHash(leaves, 7) }, cosigner, 100);
    const { body } = splitNote(note(7));
    expect(verifyCosignatureLine(c.line, splitNote(note(8)).body, name, publicKey)).toEqual({ ok: false, reason: 'bad cosignature' });
    const other = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    expect(verifyCosignatureLine(c.line, body, name, other)).toMatchObject({ ok: false, reason: "not this cosigner's line" });
    const blob = Buffer.from(c.line.split(' ')[2]!, 'base64');
    blob.writeBigUInt64BE(101n, 4);
    expect(verifyCosignatureLine(`\u2014 ${name} ${blob.toString('base64')}`, body, name, publicKey)).toEqual({ ok: false, reason: 'bad cosignature' });
    expect(verifyCosignatureLine(c.line, body, 'roundtable-node/0000000000000000', publicKey)).toMatchObject({ ok: false });
    // The log's own line (type 0x01, 68 bytes) is never taken for a cosignature.
    const [logLine] = splitNote(note(7)).lines;
    expect(verifyCosignatureLine(logLine!, body, ORIGIN, publicKey)).toMatchObject({ ok: false });
  });

  it('names a node by its identity key and appends each cosignature line once', () => {
    expect(cosignerName('ab'.repeat(32))).toBe('roundtable-node/abababababababab');
    expect(() => cosignerName('AB'.repeat(32))).toThrow();
    const n = note(3);
    const c = cosignCheckpoint({ origin: ORIGIN, size: 3, root: treeHash(leaves, 3) }, cosigner, 5);
    const once = withSignatures(n, [c.line, c.line]);
    expect(once).toBe(`${n}${c.line}\n`);
    expect(withSignatures(once, [c.line])).toBe(once);
    expect(splitNote(once).lines).toHaveLength(2);
  });
});

describe('witnessCheckpoint', () => {
  it('cosigns a first checkpoint (pinning the log key) and then every consistent extension', () => {
    const first = witnessCheckpoint(null, { note: note(5), logPublicKey: logPublic, oldSize: 0, consistency: [] });
    expect(first).toMatchObject({ ok: true, next: stateAt(5) });
    for (const [from, to] of [[5, 6], [6, 16], [16, 17], [17, 40], [40, 40]] as const) {
      const v = witnessCheckpoint(stateAt(from), { note: note(to), logPublicKey: logPublic, oldSize: from, consistency: proof(from, to) });
      expect(v, `${from} -> ${to}`).toMatchObject({ ok: true, next: stateAt(to) });
    }
  });

  it('refuses a rewritten log: another tree of a larger size, a smaller size, another root for the same size', () => {
    const forked = leaves.map((l, i) => (i === 2 ? leafHash(new TextEncoder().encode('rewritten')) : l));
    const rewritten = witnessCheckpoint(stateAt(10), { note: note(20, forked), logPublicKey: logPublic, oldSize: 10, consistency: proof(10, 20, forked) });
    expect(rewritten).toMatchObject({ ok: false, code: 'CHECKPOINT_INCONSISTENT', witnessSize: 10 });
    const shrunk = witnessCheckpoint(stateAt(10), { note: note(9), logPublicKey: logPublic, oldSize: 9, consistency: [] });
    expect(shrunk).toMatchObject({ ok: false, code: 'CHECKPOINT_INCONSISTENT' });
    const sameSize = witnessCheckpoint(stateAt(10), { note: note(10, forked), logPublicKey: logPublic, oldSize: 10, consistency: [] });
    expect(sameSize).toMatchObject({ ok: false, code: 'CHECKPOINT_INCONSISTENT' });
    // A proof for the right sizes but another pair of trees, a truncated proof, an empty one.
    const wrongProof = witnessCheckpoint(stateAt(10), { note: note(20), logPublicKey: logPublic, oldSize: 10, consistency: proof(11, 20) });
    expect(wrongProof).toMatchObject({ ok: false, code: 'CHECKPOINT_INCONSISTENT' });
    const truncated = witnessCheckpoint(stateAt(10), { note: note(20), logPublicKey: logPublic, oldSize: 10, consistency: proof(10, 20).slice(1) });
    expect(truncated).toMatchObject({ ok: false, code: 'CHECKPOINT_INCONSISTENT' });
    const empty = witnessCheckpoint(stateAt(10), { note: note(20), logPublicKey: logPublic, oldSize: 10, consistency: [] });
    expect(empty).toMatchObject({ ok: false, code: 'CHECKPOINT_INCONSISTENT' });
  });

  it('asks for a proof from its own size when the log names another one', () => {
    expect(witnessCheckpoint(stateAt(10), { note: note(20), logPublicKey: logPublic, oldSize: 8, consistency: proof(8, 20) })).toMatchObject({
      ok: false,
      code: 'CHECKPOINT_OLD_SIZE',
      witnessSize: 10,
    });
    expect(witnessCheckpoint(null, { note: note(20), logPublicKey: logPublic, oldSize: 8, consistency: proof(8, 20) })).toMatchObject({
      ok: false,
      code: 'CHECKPOINT_OLD_SIZE',
      witnessSize: 0,
    });
  });

  it('refuses a note not signed by the log key, another key for a pinned origin, another origin', () => {
    const otherSecret = ed25519.utils.randomSecretKey();
    const otherPublic = bytesToHex(ed25519.getPublicKey(otherSecret));
    expect(witnessCheckpoint(null, { note: note(5), logPublicKey: otherPublic, oldSize: 0, consistency: [] })).toMatchObject({ ok: false, code: 'CHECKPOINT_INVALID' });
    const tampered = note(5).replace('\n5\n', '\n6\n');
    expect(witnessCheckpoint(null, { note: tampered, logPublicKey: logPublic, oldSize: 0, consistency: [] })).toMatchObject({ ok: false, code: 'CHECKPOINT_INVALID' });
    expect(witnessCheckpoint(stateAt(5), { note: note(6, leaves, otherSecret), logPublicKey: otherPublic, oldSize: 5, consistency: proof(5, 6) })).toMatchObject({
      ok: false,
      code: 'LOG_KEY_CHANGED',
    });
    expect(witnessCheckpoint(stateAt(5), { note: note(6, leaves, logSecret, 'elsewhere/log'), logPublicKey: logPublic, oldSize: 5, consistency: proof(5, 6) })).toMatchObject({
      ok: false,
      code: 'CHECKPOINT_INVALID',
    });
    expect(witnessCheckpoint(null, { note: 'garbage', logPublicKey: logPublic, oldSize: 0, consistency: [] })).toMatchObject({ ok: false, code: 'CHECKPOINT_INVALID' });
    expect(witnessCheckpoint(null, { note: note(5), logPublicKey: 'zz', oldSize: 0, consistency: [] })).toMatchObject({ ok: false, code: 'CHECKPOINT_INVALID' });
  });
});
