import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorResponse, KeyResponse, NodeResponse } from '#api';
import { generateIdentity } from '#crypto';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { dealtKeyRegistration } from './support/keys.js';

const CONCURRENCY = 8;

/**
 * Concurrent writes that race to the same unique row. The check-then-insert in the services cannot see
 * an insert that has not committed yet; the database's unique constraints decide, and the loser must get
 * the same typed conflict as a sequential duplicate, never INTERNAL. Real HTTP requests in parallel, on
 * whichever database the run uses (on PostgreSQL the transactions overlap; on PGlite they queue).
 */
describe('REST API: racing writes answer one 201 and typed conflicts', () => {
  let coord: TestCoordinator;

  beforeAll(async () => {
    coord = await startTestCoordinator();
  });
  afterAll(async () => coord?.destroy());

  /** The statuses and error codes of the answers, sorted; the created bodies. */
  async function race(calls: (() => Promise<{ status: number; body: unknown }>)[]) {
    const answers = await Promise.all(calls.map((call) => call()));
    const created = answers.filter((a) => a.status === 201).map((a) => a.body);
    const refused = answers.filter((a) => a.status !== 201).map((a) => [a.status, ErrorResponse.parse(a.body).error.code] as const);
    return { created, refused };
  }

  it(`${CONCURRENCY} concurrent enrollments of one public key: one node, ${CONCURRENCY - 1} NODE_ALREADY_ENROLLED`, async () => {
    const { publicKey } = generateIdentity();
    const { created, refused } = await race(
      Array.from({ length: CONCURRENCY }, (_, i) => () => coord.api('POST', '/v1/nodes', { publicKey, label: `racer ${i}` })),
    );
    expect(created).toHaveLength(1);
    expect(NodeResponse.parse(created[0]).publicKey).toBe(publicKey);
    expect(refused).toEqual(Array.from({ length: CONCURRENCY - 1 }, () => [409, 'NODE_ALREADY_ENROLLED']));
    const nodes = NodeResponse.array().parse((await coord.api('GET', '/v1/nodes')).body);
    expect(nodes.filter((n) => n.publicKey === publicKey)).toHaveLength(1);
  });

  it(`${CONCURRENCY} concurrent registrations of one key id: one key, ${CONCURRENCY - 1} KEY_ALREADY_EXISTS`, async () => {
    const nodeIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await coord.api('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: `member ${i}` });
      nodeIds.push(NodeResponse.parse(res.body).id);
    }
    const id = randomUUID();
    const body = { ...dealtKeyRegistration('ed25519', 2, nodeIds).body, id };
    const { created, refused } = await race(Array.from({ length: CONCURRENCY }, () => () => coord.api('POST', '/v1/keys', body)));
    expect(created).toHaveLength(1);
    expect(KeyResponse.parse(created[0]).id).toBe(id);
    expect(refused).toEqual(Array.from({ length: CONCURRENCY - 1 }, () => [409, 'KEY_ALREADY_EXISTS']));
  });
});
