import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '#crypto';
import { describe, expect, it } from 'vitest';
import { verifyBundle, entryLeafHash, proofsFor, type AuditBundle, type BundleEntry } from './bundle.js';
import { GENESIS_HASH, entryHash } from './chain.js';
import { signCheckpoint } from './checkpoint.js';
import { cosignCheckpoint, cosignerName, withSignatures } from './cosignature.js';
import { treeHash } from './merkle.js';

const logKey = ed25519.utils.randomSecretKey();
const logPub = ed25519.getPublicKey(logKey);
const otherKey = ed25519.utils.randomSecretKey();

function chain(n: number): BundleEntry[] {
  const out: BundleEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const base = {
      seq,
      id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      actor: { kind: 'admin', id: 'alice' },
      action: 'key.created',
      outcome: 'success',
      keyId: `k${seq}`,
      requestId: null,
      attemptId: null,
      nodeId: null,
      details: { n: seq },
      prevHash,
    };
    const hash = entryHash({ ...base, occurredAt: new Date(base.occurredAt), actorKind: 'admin', actorId: 'alice' });
    out.push({ ...base, hash });
    prevHash = hash;
  }
  return out;
}

const all = chain(13);
const leaves = all.map((e) => entryLeafHash(e.hash));
const sign = (size: number, key = logKey, rootLeaves = leaves) =>
  signCheckpoint({ origin: 'roundtable.test/audit', size, root: treeHash(rootLeaves.slice(0, size)) }, { name: 'roundtable.test', secretKey: key });

function honest(from = 4, to = 9, size = 13): AuditBundle {
  const entries = all.slice(from - 1, to);
  return { checkpoint: { note: sign(size) }, entries, proofs: proofsFor(entries, leaves, size) };
}
const clone = (b: AuditBundle): AuditBundle => structuredClone(b);
const refusal = (b: AuditBundle): string => {
  const v = verifyBundle(b, logPub);
  return v.ok ? 'accepted' : v.reason;
};

describe('verifyBundle', () => {
  it('accepts an honest bundle, from the first entry or from the middle', () => {
    expect(verifyBundle(honest(), logPub)).toEqual({ ok: true, origin: 'roundtable.test/audit', keyName: 'roundtable.test', treeSize: 13, entries: 6, witnessedBy: [] });
    expect(verifyBundle(honest(1, 13, 13), logPub).ok).toBe(true);
    expect(verifyBundle(honest(1, 1, 1), logPub).ok).toBe(true);
  });

  it('refuses a changed entry', () => {
    const b = clone(honest());
    b.entries[2]!.details = { n: 999 };
    expect(refusal(b)).toMatch(/seq 6: hash does not match/);
  });

  it('refuses a changed entry whose hash was recomputed (the proof no longer leads to the root)', () => {
    const b = clone(honest(13, 13));
    const e = b.entries[0]!;
    e.outcome = 'failure';
    e.hash = entryHash({ ...e, occurredAt: new Date(e.occurredAt), actorKind: e.actor.kind, actorId: e.actor.id });
    expect(refusal(b)).toMatch(/does not lead to the root/);
  });

  it('refuses a dropped entry', () => {
    const b = clone(honest());
    b.entries.splice(2, 1);
    b.proofs.splice(2, 1);
    expect(refusal(b)).toMatch(/follows seq 5/);
  });

  it('refuses reordered proofs', () => {
    const b = clone(honest());
    [b.proofs[1], b.proofs[2]] = [b.proofs[2]!, b.proofs[1]!];
    expect(refusal(b)).toMatch(/proof 1 is for seq 6/);
    const c = clone(honest());
    [c.proofs[1]!.hashes, c.proofs[2]!.hashes] = [c.proofs[2]!.hashes, c.proofs[1]!.hashes];
    expect(refusal(c)).toMatch(/seq 5: inclusion proof/);
  });

  it('refuses a wrong root', () => {
    const forged = chain(13).map((e, i) => (i === 12 ? { ...e, hash: 'ab'.repeat(32) } : e)).map((e) => entryLeafHash(e.hash));
    const b = { ...clone(honest()), checkpoint: { note: sign(13, logKey, forged) } };
    expect(refusal(b)).toMatch(/seq 4: inclusion proof does not lead to the root/);
  });

  it('refuses a checkpoint signed by another key, or tampered after signing', () => {
    const b = { ...clone(honest()), checkpoint: { note: sign(13, otherKey) } };
    expect(verifyBundle(b, logPub)).toEqual({ ok: false, reason: 'checkpoint: checkpoint is not signed by the log key' });
    const t = clone(honest());
    t.checkpoint.note = t.checkpoint.note.replace('\n13\n', '\n12\n');
    expect(refusal(t)).toMatch(/bad signature/);
  });

  it('refuses a proof for another tree size', () => {
    const b = clone(honest());
    b.proofs = proofsFor(b.entries, leaves, 12);
    expect(refusal(b)).toMatch(/proof is for tree size 12, the checkpoint is for 13/);
    b.proofs = b.proofs.map((p) => ({ ...p, treeSize: 13 }));
    expect(verifyBundle(b, logPub).ok).toBe(false);
  });

  it('refuses a bundle whose first entry does not link to the genesis hash', () => {
    const b = clone(honest(1, 3));
    b.entries[0]!.prevHash = bytesToHex(new Uint8Array(32).fill(1));
    expect(refusal(b)).toMatch(/genesis/);
  });

  describe('with witnesses', () => {
    const nodes = [0, 1, 2].map(() => {
      const secret = ed25519.utils.randomSecretKey();
      const publicKey = ed25519.getPublicKey(secret);
      return { secret, publicKey, name: cosignerName(bytesToHex(publicKey)) };
    });
    const trusted = nodes.map((n) => ({ publicKey: n.publicKey }));
    const cosign = (n: (typeof nodes)[number], size = 13, root = treeHash(leaves.slice(0, size))) =>
      cosignCheckpoint({ origin: 'roundtable.test/audit', size, root }, { name: n.name, publicKey: n.publicKey, sign: (m) => ed25519.sign(m, n.secret) }, 1_800_000_000).line;
    const witnessed = (lines: string[]): AuditBundle => {
      const b = clone(honest());
      b.checkpoint.note = withSignatures(b.checkpoint.note, lines);
      return b;
    };

    it('accepts a checkpoint cosigned by the trusted witnesses, and counts them', () => {
      const v = verifyBundle(witnessed(nodes.map((n) => cosign(n))), logPub, { witnesses: trusted });
      expect(v).toMatchObject({ ok: true, witnessedBy: nodes.map((n) => n.name) });
      expect(verifyBundle(witnessed([cosign(nodes[0]!), cosign(nodes[2]!)]), logPub, { witnesses: trusted, minWitnesses: 2 })).toMatchObject({ ok: true });
    });

    it('refuses too few cosignatures, a forged one, one for another tree, and cosignatures by keys it does not trust', () => {
      expect(verifyBundle(witnessed([cosign(nodes[0]!)]), logPub, { witnesses: trusted, minWitnesses: 2 })).toMatchObject({ ok: false, reason: expect.stringMatching(/cosigned by 1 of the trusted witnesses, 2 required/) as unknown });
      const [dash, name, blob] = cosign(nodes[1]!).split(' ') as [string, string, string];
      const bytes = Buffer.from(blob, 'base64');
      bytes[40]! ^= 1;
      const forged = `${dash} ${name} ${bytes.toString('base64')}`;
      expect(verifyBundle(witnessed([cosign(nodes[0]!), forged]), logPub, { witnesses: trusted, minWitnesses: 1 })).toMatchObject({ ok: false, reason: expect.stringMatching(/cosignature by .*bad cosignature/) as unknown });
      const otherTree = cosign(nodes[1]!, 12);
      expect(verifyBundle(witnessed([otherTree]), logPub, { witnesses: trusted, minWitnesses: 1 })).toMatchObject({ ok: false, reason: expect.stringMatching(/bad cosignature/) as unknown });
      const stranger = ed25519.utils.randomSecretKey();
      const strangerLine = cosign({ secret: stranger, publicKey: ed25519.getPublicKey(stranger), name: nodes[0]!.name });
      expect(verifyBundle(witnessed([strangerLine]), logPub, { witnesses: trusted, minWitnesses: 1 })).toMatchObject({ ok: false, reason: expect.stringMatching(/cosigned by 0/) as unknown });
      expect(verifyBundle(honest(), logPub, { witnesses: trusted, minWitnesses: 4 })).toMatchObject({ ok: false, reason: '4 witnesses required but only 3 trusted' });
    });

    it('still checks the log signature with cosignatures present (a cosignature is not the log\'s signature)', () => {
      const b = witnessed(nodes.map((n) => cosign(n)));
      const [body, sigs] = b.checkpoint.note.split('\n\n') as [string, string];
      b.checkpoint.note = `${body}\n\n${sigs.split('\n').slice(1).join('\n')}`;
      expect(verifyBundle(b, logPub, { witnesses: trusted })).toMatchObject({ ok: false, reason: expect.stringMatching(/not signed by the log key/) as unknown });
    });
  });
});
