import { describe, expect, it } from 'vitest';
import { ChainVerifier, entryHash, GENESIS_HASH, type ChainedFields } from './chain.js';

function chain(n: number): (ChainedFields & { hash: string })[] {
  const entries: (ChainedFields & { hash: string })[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const fields: ChainedFields = {
      seq,
      id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
      occurredAt: new Date(Date.UTC(2026, 10, 21, 12, 0, seq)),
      actorKind: 'system',
      actorId: 'coordinator',
      action: 'request.created',
      outcome: 'success',
      keyId: null,
      requestId: null,
      attemptId: null,
      nodeId: null,
      details: { n: seq, nested: { b: 2, a: [1, 'x'] } },
      prevHash,
    };
    const hash = entryHash(fields);
    entries.push({ ...fields, hash });
    prevHash = hash;
  }
  return entries;
}

const verify = (entries: (ChainedFields & { hash: string })[]) => {
  const v = new ChainVerifier();
  for (const e of entries) if (!v.push(e)) break;
  return v.result();
};

describe('audit hash chain', () => {
  it('verifies an intact chain and reports its head', () => {
    const entries = chain(5);
    expect(verify(entries)).toEqual({ ok: true, checked: 5, headHash: entries[4]!.hash });
    expect(verify([])).toEqual({ ok: true, checked: 0, headHash: GENESIS_HASH });
  });

  it('does not depend on the order of keys in details (jsonb reorders them)', () => {
    const [e] = chain(1);
    const reordered = { ...e!, details: { nested: { a: [1, 'x'], b: 2 }, n: 1 } };
    expect(entryHash(reordered)).toBe(e!.hash);
  });

  it('names the first tampered entry: a changed field, a changed hash, a removed entry', () => {
    const edited = chain(5);
    edited[2] = { ...edited[2]!, details: { n: 999 } };
    expect(verify(edited)).toEqual({ ok: false, checked: 2, brokenAt: { seq: 3, id: edited[2].id, reason: 'hash_mismatch' } });

    const rehashed = chain(5);
    const forged = { ...rehashed[2]!, actorId: 'mallory' };
    rehashed[2] = { ...forged, hash: entryHash(forged) };
    expect(verify(rehashed)).toMatchObject({ ok: false, brokenAt: { seq: 4, reason: 'prev_hash_mismatch' } });

    const gap = chain(5);
    gap.splice(1, 1);
    expect(verify(gap)).toMatchObject({ ok: false, brokenAt: { seq: 3, reason: 'seq_gap' } });
  });
});
