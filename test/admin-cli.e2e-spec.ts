import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashMessage as ethersHashMessage } from 'ethers';
import { CommanderError, type Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_ACTIONS,
  AuditBundleResponse,
  AuditPageResponse,
  AuditQuery,
  AuditVerifyResponse,
  CeremonyListResponse,
  CeremonyResponse,
  KeyResponse,
  NodeListResponse,
  NodeResponse,
  SigningRequestListResponse,
  SigningRequestResponse,
} from '#api';
import { generateIdentity } from '#crypto';
import { ACTOR_KINDS } from '#protocol';
import { ADMIN_TOKEN, startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { dealtKeyRegistration } from './support/keys.js';
import { ApiError } from '#sdk';
import { AUDIT_LIST_OPTIONS, adminVersion, buildAdminProgram, describeCeremony } from '../apps/admin/src/program.js';

interface Run {
  out: string;
  err: string;
  exitCode: number;
}

/** Runs the admin program as its main does, capturing stdout (JSON), stderr (progress, help) and the exit code. */
async function admin(args: string[], coordinator?: string): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  let exitCode = 0;
  const program = buildAdminProgram({ out: (t) => out.push(t), progress: (t) => err.push(t), setExitCode: (c) => (exitCode = c) });
  const connection = coordinator ? ['--coordinator', coordinator, '--admin-token', ADMIN_TOKEN] : [];
  try {
    await program.parseAsync([...connection, ...args], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    exitCode = e.exitCode;
  }
  return { out: out.join('\n'), err: err.join('\n'), exitCode };
}
const json = (run: Run): unknown => JSON.parse(run.out);

/** Every command of the program, as the argument path that names it. */
const commandPaths = (command: Command, path: string[] = []): string[][] =>
  command.commands.flatMap((c) => [[...path, c.name()], ...commandPaths(c, [...path, c.name()])]);

describe('admin CLI: help, version, options', () => {
  const program = buildAdminProgram({ out: () => undefined, progress: () => undefined, setExitCode: () => undefined });

  it('--version prints the package.json version', async () => {
    expect(adminVersion()).toMatch(/^\d+\.\d+\.\d+/);
    const run = await admin(['--version']);
    expect([run.exitCode, run.out]).toEqual([0, adminVersion()]);
  });

  it('every command and option has a description, and --help on each prints it', async () => {
    const paths = commandPaths(program);
    expect(paths).toEqual(
      expect.arrayContaining([
        ['nodes', 'restore'],
        ['requests', 'list'],
        ['requests', 'show'],
        ['audit', 'list'],
        ['ceremony', 'start'],
        ['sign'],
      ]),
    );
    for (const path of paths) {
      const command = path.reduce<Command>((c, name) => c.commands.find((s) => s.name() === name)!, program);
      expect(command.description(), path.join(' ')).not.toBe('');
      for (const option of command.options) expect(option.description, `${path.join(' ')} ${option.flags}`).not.toBe('');
      for (const argument of command.registeredArguments) expect(argument.description, `${path.join(' ')} <${argument.name()}>`).not.toBe('');
      const help = await admin([...path, '--help']);
      expect(help.exitCode, path.join(' ')).toBe(0);
      expect(help.out.replace(/\s+/g, ' ')).toContain(command.description());
    }
    for (const option of program.options) expect(option.description, option.flags).not.toBe('');
  });

  it('audit list has an option for exactly every key of AuditQuery, offers exactly the audit actions and actor kinds, and the connection options read their variables', () => {
    const list = program.commands.find((c) => c.name() === 'audit')!.commands.find((c) => c.name() === 'list')!;
    expect(Object.keys(AUDIT_LIST_OPTIONS).sort()).toEqual(Object.keys(AuditQuery.shape).sort());
    expect(list.options.map((o) => o.long).sort()).toEqual(Object.values(AUDIT_LIST_OPTIONS).sort());
    expect(list.options.find((o) => o.long === '--action')!.argChoices).toEqual([...AUDIT_ACTIONS]);
    expect(list.options.find((o) => o.long === '--actor-kind')!.argChoices).toEqual([...ACTOR_KINDS]);
    expect(program.options.map((o) => [o.long, o.envVar])).toEqual(
      expect.arrayContaining([
        ['--coordinator', 'ROUNDTABLE_COORDINATOR'],
        ['--admin-token', 'ROUNDTABLE_ADMIN_TOKEN'],
      ]),
    );
  });

  it('refuses to call without a bearer token or with a URL that is not http(s), before any request (status 0)', async () => {
    const saved = process.env.ROUNDTABLE_ADMIN_TOKEN;
    delete process.env.ROUNDTABLE_ADMIN_TOKEN;
    try {
      await expect(admin(['--coordinator', 'http://127.0.0.1:9', 'nodes', 'list'])).rejects.toMatchObject({
        status: 0,
        code: 'INVALID_CONFIG',
        message: expect.stringContaining('a bearer token is required: the admin token or an API key (--admin-token or ROUNDTABLE_ADMIN_TOKEN)') as unknown,
      });
    } finally {
      if (saved !== undefined) process.env.ROUNDTABLE_ADMIN_TOKEN = saved;
    }
    await expect(admin(['--coordinator', 'ftp://127.0.0.1', '--admin-token', 't', 'nodes', 'list'])).rejects.toMatchObject({ status: 0, code: 'INVALID_CONFIG' });
    await expect(admin(['--coordinator', 'http://127.0.0.1:9', '--admin-token', 't', 'nodes', 'list'])).rejects.toMatchObject({ status: 0, code: 'UNREACHABLE' });
  });

  it('shows a ceremony round as answered/participants, counting the identifier lists', () => {
    const participants = [1, 2, 3].map((i) => ({ nodeId: `0000000${i}-0000-4000-8000-000000000000`, identifier: String(i).padStart(64, '0'), identityKey: 'ab'.repeat(32) }));
    const ceremony = CeremonyResponse.parse({
      id: '62c5eedd-983e-43a0-9020-232212974bc4',
      keyId: '4417075b-5e93-44c6-860a-974c2c49a893',
      suite: 'ed25519',
      threshold: 2,
      status: 'round1',
      participants,
      round1Received: participants.slice(0, 2).map((p) => p.identifier),
      round2Received: [],
      resultsReceived: [],
      transcriptHash: null,
      failureCode: null,
      failureReason: null,
      culpritNodeId: null,
      culprits: [],
      deadline: '2025-01-01T00:01:00.000Z',
      roundTimeoutMs: 60000,
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
      completedAt: null,
    });
    expect(describeCeremony(ceremony)).toBe('round 1 (commitments and proofs): 2/3');
    expect(describeCeremony({ ...ceremony, status: 'round2', round2Received: [participants[0]!.identifier] })).toBe(
      'round 2 (sealed shares, transcript check): 1/3',
    );
    expect(describeCeremony({ ...ceremony, status: 'round3', resultsReceived: participants.map((p) => p.nodeId) })).toBe('round 3 (results): 3/3');
  });
});

describe('admin CLI against a coordinator', () => {
  let coord: TestCoordinator;
  let keyId: string;
  const nodeIds: string[] = [];

  beforeAll(async () => {
    coord = await startTestCoordinator();
    for (let i = 0; i < 3; i++) {
      const run = await admin(['nodes', 'enroll', '--public-key', generateIdentity().publicKey, '--label', `cli-${i}`], coord.httpUrl);
      expect(run.exitCode).toBe(0);
      nodeIds.push(NodeResponse.parse(json(run)).id);
    }
    keyId = KeyResponse.parse((await coord.api('POST', '/v1/keys', dealtKeyRegistration('ed25519', 2, nodeIds).body)).body).id;
  });
  afterAll(async () => coord?.destroy());

  it('nodes revoke and restore', async () => {
    const [id] = nodeIds as [string];
    expect(NodeResponse.parse(json(await admin(['nodes', 'revoke', id], coord.httpUrl))).status).toBe('revoked');
    expect(NodeResponse.parse(json(await admin(['nodes', 'restore', id], coord.httpUrl)))).toMatchObject({ id, status: 'active', revokedAt: null });
    const listed = NodeListResponse.parse(json(await admin(['nodes', 'list'], coord.httpUrl)));
    expect(listed.find((n) => n.id === id)?.status).toBe('active');
  });

  it('requests list (filters, paging) and requests show --wait', async () => {
    // The coordinator refuses a deadline less than a second away: leave room for a loaded machine.
    const deadline = new Date(Date.now() + 3000).toISOString();
    const ids: string[] = [];
    for (const message of ['first', 'second', 'third']) {
      const res = await coord.api('POST', '/v1/signing-requests', { keyId, message, deadline, description: 'cli' });
      ids.push(SigningRequestResponse.parse(res.body).id);
    }
    const page = SigningRequestListResponse.parse(json(await admin(['requests', 'list', '--key', keyId, '--limit', '2', '--offset', '1'], coord.httpUrl)));
    expect(page.map((r) => r.id)).toEqual([ids[1], ids[0]]);
    const shown = SigningRequestResponse.parse(json(await admin(['requests', 'show', ids[0]!], coord.httpUrl)));
    expect([shown.id, shown.messageText]).toEqual([ids[0], 'first']);
    const waited = SigningRequestResponse.parse(json(await admin(['requests', 'show', ids[2]!.toUpperCase(), '--wait', '20000'], coord.httpUrl)));
    expect(waited.status).toBe('expired');
    // Each request expires on its own deadline timer: waiting for one says nothing of the others.
    for (const id of ids.slice(0, 2)) {
      expect(SigningRequestResponse.parse(json(await admin(['requests', 'show', id, '--wait', '20000'], coord.httpUrl))).status).toBe('expired');
    }
    const expired = SigningRequestListResponse.parse(json(await admin(['requests', 'list', '--status', 'expired'], coord.httpUrl)));
    expect(expired.map((r) => r.id)).toEqual(expect.arrayContaining(ids));
    const bad = await admin(['requests', 'list', '--status', 'done'], coord.httpUrl);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.err).toMatch(/Allowed choices are pending, committing/);
  });

  it('sign --payload-file proposes an intent (the digest is derived by the coordinator); requests cancel cancels one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rt-admin-'));
    const file = join(dir, 'payload.json');
    writeFileSync(file, JSON.stringify({ kind: 'eip191', message: 'pay 5 USDC to payroll' }));
    const deadline = new Date(Date.now() + 3000).toISOString();
    const signed = await admin(['sign', '--key', keyId, '--payload-file', file, '--sequence', '7', '--note', 'from the CLI', '--deadline', deadline], coord.httpUrl);
    expect(signed.exitCode).toBe(1); // no node is connected: it expires
    const view = SigningRequestResponse.parse(json(signed));
    expect([view.status, view.payload.kind, view.sequence, view.note]).toEqual(['expired', 'eip191', 7, 'from the CLI']);
    expect(`0x${view.digest}`).toBe(ethersHashMessage('pay 5 USDC to payroll'));
    expect(signed.err).toContain(`intent hash ${view.intentHash}`);
    const both = await admin(['sign', '--key', keyId, '--payload-file', file, '--message', 'x'], coord.httpUrl);
    expect(both.exitCode).not.toBe(0);
    expect(both.err).toContain('exactly one of --message or --payload-file');

    const open = SigningRequestResponse.parse((await coord.api('POST', '/v1/signing-requests', { keyId, payload: { kind: 'text', text: 'cancel me' } })).body);
    const cancelled = await admin(['requests', 'cancel', open.id, '--reason', 'wrong amount'], coord.httpUrl);
    expect(SigningRequestResponse.parse(json(cancelled))).toMatchObject({ id: open.id, status: 'cancelled', failure: { code: 'REQUEST_CANCELLED' } });
    await expect(admin(['requests', 'cancel', open.id], coord.httpUrl)).rejects.toMatchObject({ code: 'REQUEST_FINISHED', status: 409 });
  });

  it('audit list takes every filter and prints nextAfter for paging', async () => {
    const first = await admin(['audit', 'list', '--action', 'node.enrolled', '--limit', '2'], coord.httpUrl);
    const page = AuditPageResponse.parse(json(first));
    expect(page.entries.map((e) => e.action)).toEqual(['node.enrolled', 'node.enrolled']);
    expect(first.err).toContain(`nextAfter: ${page.nextAfter} (next page: --after ${page.nextAfter})`);
    const rest = await admin(['audit', 'list', '--action', 'node.enrolled', '--after', String(page.nextAfter), '--limit', '2'], coord.httpUrl);
    const next = AuditPageResponse.parse(json(rest));
    expect(next.entries.map((e) => e.nodeId)).toEqual([nodeIds[2]]);
    expect(rest.err).toContain('nextAfter: null');
    const from = new Date(Date.now() - 60_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const filtered = await admin(
      ['audit', 'list', '--node', nodeIds[0]!, '--key', keyId, '--request', keyId, '--attempt', keyId, '--from', from, '--to', to],
      coord.httpUrl,
    );
    expect(filtered.exitCode).toBe(0);
    expect(AuditPageResponse.parse(json(filtered)).entries).toEqual([]);
    const restored = AuditPageResponse.parse(json(await admin(['audit', 'list', '--node', nodeIds[0]!, '--action', 'node.restored'], coord.httpUrl)));
    expect(restored.entries).toHaveLength(1);
    const byAdmin = AuditPageResponse.parse(
      json(await admin(['audit', 'list', '--actor-kind', 'admin', '--actor-id', 'admin-token', '--action', 'node.enrolled'], coord.httpUrl)),
    );
    expect(byAdmin.entries.map((e) => [e.actor, e.nodeId])).toEqual(nodeIds.map((id) => [{ kind: 'admin', id: 'admin-token' }, id]));
    const byNobody = AuditPageResponse.parse(json(await admin(['audit', 'list', '--actor-kind', 'node', '--actor-id', 'admin-token'], coord.httpUrl)));
    expect(byNobody.entries).toEqual([]);
    await expect(admin(['audit', 'list', '--actor-kind', 'wizard'], coord.httpUrl)).resolves.toMatchObject({ exitCode: 1 });
  });

  it('nodes show, keys list|show|retire, ceremony list, audit verify and audit bundle, each one SDK call', async () => {
    const [id] = nodeIds as [string];
    expect(NodeResponse.parse(json(await admin(['nodes', 'show', id.toUpperCase()], coord.httpUrl))).id).toBe(id);
    expect(CeremonyListResponse.parse(json(await admin(['ceremony', 'list', '--status', 'completed', '--limit', '5'], coord.httpUrl)))).toEqual([]);
    expect(AuditVerifyResponse.parse(json(await admin(['audit', 'verify'], coord.httpUrl))).ok).toBe(true);
    const bundle = AuditBundleResponse.parse(json(await admin(['audit', 'bundle', '--from', '1', '--to', '2'], coord.httpUrl)));
    expect(bundle.entries.map((e) => e.seq)).toEqual([1, 2]);
    const other = KeyResponse.parse((await coord.api('POST', '/v1/keys', dealtKeyRegistration('ed25519', 2, nodeIds).body)).body);
    expect(KeyResponse.parse(json(await admin(['keys', 'show', other.id], coord.httpUrl))).id).toBe(other.id);
    expect(KeyResponse.parse(json(await admin(['keys', 'retire', other.id], coord.httpUrl))).status).toBe('retired');
    expect(json(await admin(['keys', 'list'], coord.httpUrl))).toEqual(expect.arrayContaining([expect.objectContaining({ id: other.id, status: 'retired' })]));
  });

  it('an API error is its code and message', async () => {
    await expect(admin(['keys', 'show', '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41'], coord.httpUrl)).rejects.toMatchObject({ code: 'KEY_NOT_FOUND', status: 404 });
  });
});

describe('admin CLI: an answer that does not match the API', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    // A "coordinator" of another version: its ceremony counts answers instead of listing them.
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify([{ id: '62c5eedd-983e-43a0-9020-232212974bc4', status: 'round1', round1Received: 2 }]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is a BAD_RESPONSE naming the fields, not output of the wrong shape', async () => {
    const error = await admin(['ceremony', 'list'], url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'BAD_RESPONSE', message: expect.stringMatching(/GET \/v1\/ceremonies.*0\.round1Received/) as unknown });
  });
});
