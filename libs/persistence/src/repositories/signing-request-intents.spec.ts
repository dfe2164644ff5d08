import { describe, expect, it } from 'vitest';
import { intentHash } from '#intent';
import type { Intent } from '#protocol';
import type { KeyRecord } from '#domain';
import { aKey, aNode, aRequest } from '../testing/fixtures.js';
import { useMigratedStore } from '../testing/migrated-store.js';

/** A typed-data payload whose keys are deliberately not in sorted order, nested two levels deep. */
const permit: Intent['payload'] = {
  kind: 'eip712',
  typedData: {
    primaryType: 'Permit',
    domain: { version: '1', name: 'USD Coin', verifyingContract: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', chainId: 1 },
    types: {
      Permit: [
        { type: 'address', name: 'owner' },
        { type: 'address', name: 'spender' },
        { type: 'uint256', name: 'value' },
        { type: 'uint256', name: 'nonce' },
        { type: 'uint256', name: 'deadline' },
      ],
    },
    message: {
      value: '1000000',
      spender: '0x1111111111111111111111111111111111111111',
      owner: '0x2222222222222222222222222222222222222222',
      nonce: 0,
      deadline: '1900000000',
    },
  },
};

describe('signing requests: intents in the database', () => {
  const t = useMigratedStore();

  async function aStoredKey(): Promise<KeyRecord> {
    const nodes = [aNode(), aNode()];
    const key = aKey(nodes);
    await t.store.transaction(async (tx) => {
      for (const node of nodes) await tx.nodes.insert(node);
      await tx.keys.insert(key);
    });
    return key;
  }

  it('round-trips the intent through jsonb (which reorders keys): equal, re-validated, and hashing to the stored hash', async () => {
    const key = await aStoredKey();
    const request = aRequest(key, { intent: { payload: permit, chainId: 1, sequence: 7, note: 'q3 payroll' } });
    await t.store.transaction((tx) => tx.requests.insert(request));
    type Row = { json: string; chain_id: string | number; sequence: string | number; note: string; payload_kind: string };
    const [row] = await t.dataSource.query<Row[]>('SELECT intent::text AS json, chain_id, sequence, note, payload_kind FROM signing_requests WHERE id = $1', [
      request.id,
    ]);
    // jsonb stores keys by length then bytes, not as written: what comes back is not the same text.
    expect(row!.json).not.toBe(JSON.stringify(request.intent));
    expect([Number(row!.chain_id), Number(row!.sequence), row!.note, row!.payload_kind]).toEqual([1, 7, 'q3 payroll', 'eip712']);
    const read = await t.store.read.requests.findById(request.id);
    expect(read).toEqual(request);
    expect(read!.intentHash).toBe(intentHash(read!.intent));
    expect(intentHash(read!.intent)).toBe(intentHash(request.intent));
  });

  it('finds a key’s request by intent hash and by sequence, and no other key’s', async () => {
    const [k1, k2] = [await aStoredKey(), await aStoredKey()];
    const request = aRequest(k1, { intent: { sequence: 3 } });
    await t.store.transaction((tx) => tx.requests.insert(request));
    expect((await t.store.read.requests.findByIntentHash(k1.id, request.intentHash!))?.id).toBe(request.id);
    expect(await t.store.read.requests.findByIntentHash(k2.id, request.intentHash!)).toBeNull();
    expect((await t.store.read.requests.findBySequence(k1.id, 3))?.id).toBe(request.id);
    expect(await t.store.read.requests.findBySequence(k1.id, 4)).toBeNull();
    expect(await t.store.read.requests.findBySequence(k2.id, 3)).toBeNull();
    expect(await t.store.read.requests.findBySequence('not-a-uuid', 3)).toBeNull();
  });

  it('refuses an intent hash or a sequence a key already has, with typed errors; another key may have them', async () => {
    const [k1, k2] = [await aStoredKey(), await aStoredKey()];
    const first = aRequest(k1, { intent: { sequence: 1 } });
    await t.store.transaction((tx) => tx.requests.insert(first));
    const sameIntent = { ...aRequest(k1), intent: first.intent, intentHash: first.intentHash };
    await expect(t.store.transaction((tx) => tx.requests.insert(sameIntent))).rejects.toMatchObject({ code: 'INTENT_ALREADY_SIGNED' });
    await expect(t.store.transaction((tx) => tx.requests.insert(aRequest(k1, { intent: { sequence: 1, note: 'other' } })))).rejects.toMatchObject({
      code: 'SEQUENCE_USED',
    });
    // The same hash and sequence under another key (the hash would differ, as keyId is hashed: the index is per key).
    await t.store.transaction((tx) => tx.requests.insert({ ...aRequest(k2), intent: { ...first.intent, keyId: k2.id }, intentHash: first.intentHash }));
  });

  it('lets one of concurrent inserts of one intent through, the others INTENT_ALREADY_SIGNED', async () => {
    const key = await aStoredKey();
    const template = aRequest(key);
    const racers = Array.from({ length: 4 }, () => ({ ...aRequest(key), intent: template.intent, intentHash: template.intentHash }));
    const results = await Promise.allSettled(racers.map((r) => t.store.transaction((tx) => tx.requests.insert(r))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r.reason as { code?: string }).code)).toEqual([
      'INTENT_ALREADY_SIGNED',
      'INTENT_ALREADY_SIGNED',
      'INTENT_ALREADY_SIGNED',
    ]);
  });

  it('allows any number of requests made before intents (no intent hash) with the same intent', async () => {
    const key = await aStoredKey();
    const legacy = aRequest(key, { intentHash: null });
    await t.store.transaction(async (tx) => {
      await tx.requests.insert(legacy);
      await tx.requests.insert({ ...aRequest(key), intent: legacy.intent, intentHash: null });
    });
  });

  it('lists one proposer’s requests', async () => {
    const key = await aStoredKey();
    const mine = aRequest(key, { intent: { proposer: 'principal:p-1' } });
    const theirs = aRequest(key, { intent: { proposer: 'principal:p-2' } });
    await t.store.transaction(async (tx) => {
      await tx.requests.insert(mine);
      await tx.requests.insert(theirs);
    });
    expect(mine.proposer).toBe('principal:p-1');
    const listed = await t.store.read.requests.list({ keyId: key.id, proposer: 'principal:p-1', limit: 10, offset: 0 });
    expect(listed.map((r) => r.id)).toEqual([mine.id]);
  });

  it('refuses to hand out a stored intent the protocol would refuse', async () => {
    const key = await aStoredKey();
    const request = aRequest(key);
    await t.store.transaction((tx) => tx.requests.insert(request));
    await t.dataSource.query(`UPDATE signing_requests SET intent = jsonb_set(intent, '{payload,kind}', '"rot13"') WHERE id = $1`, [request.id]);
    await expect(t.store.read.requests.findById(request.id)).rejects.toThrow(/stored intent is not valid/);
  });
});
