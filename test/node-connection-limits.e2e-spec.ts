import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '#crypto';
import { CloseCode, encodeFrame } from '#protocol';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { RawNode } from './support/raw-node.js';
import { clientFrame, rawWebSocket } from './support/raw-socket.js';

type AuditPage = { entries: { action: string; details: Record<string, unknown> }[] };

/** A well-formed auth.response whose signature cannot verify. */
const badAuthResponse = (): string =>
  encodeFrame({ type: 'auth.response', publicKey: generateIdentity().publicKey, signature: randomBytes(64).toString('hex') });

describe('node WebSocket: a refused socket is not read again, unauthenticated sockets are bounded per address', () => {
  let coord: TestCoordinator;

  beforeAll(async () => {
    coord = await startTestCoordinator({ maxUnauthenticatedPerAddress: 3 });
  });
  afterAll(async () => coord?.destroy());

  const refusedEntries = async () => (await coord.api<AuditPage>('GET', '/v1/audit?action=node.refused&limit=1000')).body.entries;

  it('one node.refused entry per connection however many auth.response frames follow; a socket ignoring the close is terminated', async () => {
    const before = (await refusedEntries()).length;
    const raw = await rawWebSocket(coord.httpUrl);
    await raw.waitFor(/auth\.challenge/);
    // 60 refused responses in one burst, and the close frame the coordinator sends is never answered.
    raw.socket.write(Buffer.concat(Array.from({ length: 60 }, () => clientFrame(badAuthResponse()))));
    const closedAfterMs = await raw.closed;
    // Refused at once, then the 2 s grace (ws alone would wait 30 s for the close handshake).
    expect(closedAfterMs).toBeLessThan(6_000);
    expect(raw.received().toString('latin1')).toContain('AUTH_FAILED');
    // Exactly one error frame: the rest were not read.
    expect(raw.received().toString('latin1').match(/"type":"error"/g)).toHaveLength(1);
    expect((await refusedEntries()).length - before).toBe(1);
  });

  it('frames after a refused first frame are not answered either', async () => {
    const raw = await rawWebSocket(coord.httpUrl);
    await raw.waitFor(/auth\.challenge/);
    const notAuth = encodeFrame({ type: 'request.decline', requestId: '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41', code: 'POLICY_DENIED', reason: 'x' });
    raw.socket.write(Buffer.concat(Array.from({ length: 30 }, () => clientFrame(notAuth))));
    expect(await raw.closed).toBeLessThan(6_000);
    expect(raw.received().toString('latin1').match(/"type":"error"/g)).toHaveLength(1);
  });

  it('closes the connection over MAX_UNAUTHENTICATED_PER_ADDRESS with 1013, without a challenge; a slot frees when one closes', async () => {
    const waiting = await Promise.all([0, 1, 2].map(() => RawNode.open(coord.wsUrl)));
    await Promise.all(waiting.map((n) => n.next('auth.challenge')));
    const extra = await RawNode.open(coord.wsUrl);
    expect(await extra.closed()).toBe(CloseCode.TRY_AGAIN_LATER);
    expect(extra.frames.filter((f) => f.type === 'auth.challenge')).toHaveLength(0);

    waiting[0]!.close();
    await waiting[0]!.closed();
    const next = await RawNode.open(coord.wsUrl);
    await next.next('auth.challenge');
    for (const n of [...waiting.slice(1), next]) n.close();
    await Promise.all([...waiting.slice(1), next].map((n) => n.closed()));
  });

  it('an authenticated node does not count against the unauthenticated limit', async () => {
    const enrolled = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const identity = generateIdentity();
        await coord.api('POST', '/v1/nodes', { publicKey: identity.publicKey, label: `limit-${i}` });
        return identity;
      }),
    );
    const nodes = await Promise.all(enrolled.map((identity) => RawNode.connect(coord.wsUrl, identity)));
    await Promise.all(nodes.map((n) => n.next('auth.ok')));
    const more = await Promise.all([0, 1, 2].map(() => RawNode.open(coord.wsUrl)));
    await Promise.all(more.map((n) => n.next('auth.challenge')));
    for (const n of [...nodes, ...more]) n.close();
    await Promise.all([...nodes, ...more].map((n) => n.closed()));
  });
});
