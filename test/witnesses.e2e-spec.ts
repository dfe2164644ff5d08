import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditBundleResponse, AuditCheckpointResponse, AuditWitnessesResponse, ErrorResponse } from '#api';
import { cosignerName, splitNote, verifyBundle } from '#audit';
import { generateIdentity, hexToBytes } from '#crypto';
import { initKeystore, KDF_COSTS, type SignerNode } from '#signer';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { RawNode } from './support/raw-node.js';
import { realSignerNode } from './support/signer-node.js';
import { buildAdminProgram } from '../apps/admin/src/program.js';
import { writeFileSync } from 'node:fs';

const PASSPHRASE = 'witness test passphrase';
const FAST = { auditCheckpointIntervalMs: 100, auditWitnessIntervalMs: 100 };

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The signer nodes witness the coordinator's transparency log (issue 11 §1): real coordinator, real signer
 * nodes with their keystores, the database. Each node cosigns the checkpoints it is shown when they extend
 * what it cosigned before; a coordinator that shows them another history under the same log key and origin
 * (a rewritten log) gets refusals, never cosignatures.
 */
describe('signer nodes as witnesses of the audit log', () => {
  const root = mkdtempSync(join(tmpdir(), 'roundtable-witness-'));
  const logKeyFile = join(root, 'audit-log.key');
  const keystores = [0, 1, 2].map((i) => join(root, `node-${i}`));
  const publicKeys: string[] = [];
  let coord: TestCoordinator;
  let nodes: SignerNode[] = [];

  const enrollAll = async (c: TestCoordinator, labelPrefix: string) => {
    for (const [i, publicKey] of publicKeys.entries()) {
      const res = await c.api('POST', '/v1/nodes', { publicKey, label: `${labelPrefix}-${i}` });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
  };
  const startNodes = async (c: TestCoordinator) => {
    nodes = keystores.map((k) => realSignerNode(c, k, PASSPHRASE));
    await Promise.all(nodes.map((n) => n.start()));
  };
  const stopNodes = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
  };
  const witnesses = async (c: TestCoordinator) => AuditWitnessesResponse.parse((await c.api('GET', '/v1/audit/witnesses')).body);
  const allCosigned = (c: TestCoordinator, atLeast = 1) =>
    waitFor(`every node to cosign a checkpoint of size >= ${atLeast}`, async () => {
      const w = await witnesses(c);
      const ours = w.witnesses.filter((x) => publicKeys.includes(x.publicKey));
      return w.treeSize >= atLeast && ours.length === 3 && ours.every((x) => x.cosignedSize === w.treeSize) ? w : null;
    });

  beforeAll(async () => {
    for (const keystore of keystores) publicKeys.push((await initKeystore({ keystore, passphrase: PASSPHRASE, kdfCost: KDF_COSTS.test })).publicKey);
    coord = await startTestCoordinator({ ...FAST, auditLogKeyFile: logKeyFile });
    await enrollAll(coord, 'witness');
    await startNodes(coord);
  });
  afterAll(async () => {
    await stopNodes();
    await coord?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('every node cosigns the latest checkpoint with its identity key, and the checkpoint carries the cosignatures', async () => {
    const status = await allCosigned(coord);
    expect(status.witnesses.map((w) => w.keyName).sort()).toEqual(publicKeys.map(cosignerName).sort());
    expect(status.witnesses.every((w) => w.connected && w.behind === 0 && w.lastRefusal === null)).toBe(true);
    expect(status.witnesses).toHaveLength(3);
    const cp = await waitFor('the checkpoint to carry three cosignatures', async () => {
      const c = AuditCheckpointResponse.parse((await coord.api('GET', '/v1/audit/checkpoint')).body);
      return c.treeSize === status.treeSize && c.cosignatures.length === 3 ? c : null;
    });
    const { lines } = splitNote(cp.note);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`^\u2014 ${cp.logKey.keyName} `));
    expect(cp.cosignatures.map((c) => c.line).sort()).toEqual(lines.slice(1).sort());
  });

  it('goes on cosigning as the log grows (the proofs themselves are checked in libs/audit witness.spec.ts); nodes that never connect witness nothing', async () => {
    const before = await allCosigned(coord);
    for (let i = 0; i < 4; i++) await coord.api('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: `extra-${i}` });
    const after = await allCosigned(coord, before.treeSize + 4);
    expect(after.treeSize).toBeGreaterThanOrEqual(before.treeSize + 4);
    // The four extra nodes never connect: they witness nothing.
    const status = await witnesses(coord);
    expect(status.witnesses.filter((w) => w.cosignedSize === null)).toHaveLength(4);
  });

  it('serves a bundle whose checkpoint the nodes cosigned, verified offline with the log key and the node keys only', async () => {
    const status = await allCosigned(coord);
    const res = await coord.api('GET', `/v1/audit/bundle?from=1&to=${status.treeSize}&witnesses=3`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const bundle = AuditBundleResponse.parse(res.body);
    const trust = { witnesses: publicKeys.map((k) => ({ publicKey: hexToBytes(k) })) };
    const verdict = verifyBundle(bundle, hexToBytes(bundle.logKey.publicKey), trust);
    expect(verdict).toMatchObject({ ok: true, treeSize: bundle.checkpoint.treeSize });
    expect(verdict.ok && verdict.witnessedBy.sort()).toEqual(publicKeys.map(cosignerName).sort());
    // A witness the bundle's checkpoint lacks: not enough.
    const stranger = { publicKey: hexToBytes(generateIdentity().publicKey) };
    expect(verifyBundle(bundle, hexToBytes(bundle.logKey.publicKey), { witnesses: [...trust.witnesses, stranger] })).toMatchObject({ ok: false });
    // The admin CLI, offline: every node's key, a quorum of two, and a key that did not cosign.
    const file = join(root, 'bundle.json');
    writeFileSync(file, JSON.stringify(res.body));
    const run = async (args: string[]) => {
      const out: string[] = [];
      let exitCode = 0;
      await buildAdminProgram({ out: (t) => out.push(t), progress: () => undefined, setExitCode: (c) => (exitCode = c) }).parseAsync(args, { from: 'user' });
      return { verdict: JSON.parse(out.join('\n')) as { ok: boolean; reason?: string; witnessedBy?: string[] }, exitCode };
    };
    const base = ['audit', 'verify-bundle', '--bundle', file, '--log-key', bundle.logKey.publicKey];
    const keyArgs = publicKeys.flatMap((k) => ['--witness-key', k]);
    expect(await run([...base, ...keyArgs])).toMatchObject({ verdict: { ok: true }, exitCode: 0 });
    const strangerKey = generateIdentity().publicKey;
    expect(await run([...base, ...keyArgs, '--witness-key', strangerKey])).toMatchObject({ verdict: { ok: false }, exitCode: 1 });
    expect(await run([...base, ...keyArgs, '--witness-key', strangerKey, '--min-witnesses', '3'])).toMatchObject({ verdict: { ok: true }, exitCode: 0 });
    const tooMany = await coord.api('GET', `/v1/audit/bundle?from=1&to=2&witnesses=4`);
    expect(tooMany.status).toBe(409);
    expect(ErrorResponse.parse(tooMany.body).error.code).toBe('CHECKPOINT_NOT_WITNESSED');
  });

  it('refuses a cosignature that does not verify, and one for a checkpoint it never issued', async () => {
    const identity = generateIdentity();
    await coord.api('POST', '/v1/nodes', { publicKey: identity.publicKey, label: 'raw-witness' });
    const raw = await RawNode.connect(coord.wsUrl, identity);
    try {
      await raw.next('auth.ok');
      const offered = await raw.next('audit.checkpoint');
      const honestLine = (await witnessLine(offered.note, identity)).line;
      const forged = honestLine.replace(/[A-Za-z0-9]{4}(=*)$/, 'AAAA$1');
      raw.send({ type: 'audit.cosignature', origin: offered.origin, treeSize: offered.treeSize, line: forged });
      expect(await raw.next('error', (f) => f.inReplyTo === 'audit.cosignature')).toMatchObject({ code: 'COSIGNATURE_INVALID' });
      raw.send({ type: 'audit.cosignature', origin: offered.origin, treeSize: offered.treeSize + 1000, line: honestLine });
      expect(await raw.next('error', (f) => f.inReplyTo === 'audit.cosignature' && f.code !== 'COSIGNATURE_INVALID')).toMatchObject({ code: 'CHECKPOINT_NOT_FOUND' });
      raw.send({ type: 'audit.cosignature', origin: offered.origin, treeSize: offered.treeSize, line: honestLine });
      expect(await raw.next('ack', (f) => f.of === 'audit.cosignature')).toBeTruthy();
    } finally {
      raw.close();
    }
  });

  it('a rewritten log under the same key and origin is refused by every node that witnessed the real one', async () => {
    const witnessed = await allCosigned(coord);
    await stopNodes();
    await coord.pause();
    // Another database, the same log key and origin: a history the nodes never saw, longer than theirs.
    const forger = await startTestCoordinator({ ...FAST, auditLogKeyFile: logKeyFile });
    try {
      await enrollAll(forger, 'forged');
      for (let i = 0; i < witnessed.treeSize + 3; i++) await forger.api('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: `pad-${i}` });
      await startNodes(forger);
      const refused = await waitFor('every node to refuse the rewritten log', async () => {
        const w = await witnesses(forger);
        const ours = w.witnesses.filter((x) => publicKeys.includes(x.publicKey));
        return ours.every((x) => x.lastRefusal?.code === 'CHECKPOINT_INCONSISTENT') ? ours : null;
      });
      expect(refused.every((x) => x.cosignedSize === null)).toBe(true);
      const bundle = await forger.api('GET', '/v1/audit/bundle?from=1&to=2&witnesses=1');
      expect(ErrorResponse.parse(bundle.body).error.code).toBe('CHECKPOINT_NOT_WITNESSED');
    } finally {
      await stopNodes();
      await forger.destroy();
    }
    // Back on the real log, the nodes carry on where they were.
    coord = await coord.restart();
    await startNodes(coord);
    await allCosigned(coord, witnessed.treeSize);
  });
});

/** A cosignature line by `identity` for `note` (what an honest node would send). */
async function witnessLine(note: string, identity: { publicKey: string; secretKey: string }) {
  const { cosignCheckpoint, openCheckpoint } = await import('#audit');
  const { identitySign } = await import('#crypto');
  const body = splitNote(note).body.split('\n');
  const cp = { origin: body[0]!, size: Number(body[1]), root: new Uint8Array(Buffer.from(body[2]!, 'base64')) };
  void openCheckpoint;
  return cosignCheckpoint(
    cp,
    { name: cosignerName(identity.publicKey), publicKey: hexToBytes(identity.publicKey), sign: (m) => hexToBytes(identitySign(identity.secretKey, m)) },
    Math.floor(Date.now() / 1000),
  );
}
