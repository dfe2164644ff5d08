import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePrincipalResponse, KeyListResponse, PRINCIPAL_ROLES, PrincipalListResponse, PrincipalResponse } from '#api';
import { ApiError } from '#sdk';
import { buildAdminProgram } from '../apps/admin/src/program.js';
import { ADMIN_TOKEN, startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { dataSourceOf } from './support/principals.js';

interface Run {
  out: string;
  err: string;
  exitCode: number;
}

/** Runs the admin program as its main does, with `token` as the bearer token. */
async function admin(args: string[], coordinator: string, token: string = ADMIN_TOKEN): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  let exitCode = 0;
  const program = buildAdminProgram({ out: (t) => out.push(t), progress: (t) => err.push(t), setExitCode: (c) => (exitCode = c) });
  try {
    await program.parseAsync(['--coordinator', coordinator, '--admin-token', token, ...args], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    exitCode = e.exitCode;
  }
  return { out: out.join('\n'), err: err.join('\n'), exitCode };
}

describe('admin CLI: principals', () => {
  let coord: TestCoordinator;
  beforeAll(async () => {
    coord = await startTestCoordinator();
  });
  afterAll(async () => coord?.destroy());

  it('create prints the key once with a warning; list and show never print it', async () => {
    const run = await admin(['principals', 'create', '--name', 'cli-proposer', '--role', 'proposer'], coord.httpUrl);
    expect(run.exitCode).toBe(0);
    const created = CreatePrincipalResponse.parse(JSON.parse(run.out));
    expect(created).toMatchObject({ name: 'cli-proposer', role: 'proposer', status: 'active' });
    expect(run.err).toMatch(/shown this once/);
    expect(run.err).not.toContain(created.apiKey);

    const listed = await admin(['principals', 'list'], coord.httpUrl);
    expect(PrincipalListResponse.parse(JSON.parse(listed.out)).map((p) => p.id)).toContain(created.id);
    const shown = await admin(['principals', 'show', created.id], coord.httpUrl);
    expect(PrincipalResponse.parse(JSON.parse(shown.out))).toMatchObject({ id: created.id, keyFingerprint: created.keyFingerprint });
    for (const output of [listed.out, shown.out]) expect(output).not.toContain(created.apiKey);
    const rows: { api_key_hash: string }[] = await dataSourceOf(coord).query('SELECT api_key_hash FROM principals WHERE id = $1', [created.id]);
    expect(rows[0]!.api_key_hash).not.toContain(created.apiKey.slice(3));
  });

  it('takes a principal key as its token: what the role allows works, the rest is a typed 403; revoked, a 401', async () => {
    const created = CreatePrincipalResponse.parse(JSON.parse((await admin(['principals', 'create', '--name', 'cli-auditor', '--role', 'auditor'], coord.httpUrl)).out));
    const asAuditor = (args: string[]) => admin(args, coord.httpUrl, created.apiKey);
    expect(KeyListResponse.parse(JSON.parse((await asAuditor(['keys', 'list'])).out))).toEqual([]);
    await expect(asAuditor(['principals', 'list'])).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
    await expect(asAuditor(['nodes', 'enroll', '--public-key', 'ab'.repeat(32), '--label', 'x'])).rejects.toBeInstanceOf(ApiError);

    const revoked = await admin(['principals', 'revoke', created.id], coord.httpUrl);
    expect(PrincipalResponse.parse(JSON.parse(revoked.out)).status).toBe('revoked');
    await expect(asAuditor(['keys', 'list'])).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('offers exactly the roles; refuses another; an unknown principal is PRINCIPAL_NOT_FOUND', async () => {
    const program = buildAdminProgram({ out: () => undefined, progress: () => undefined, setExitCode: () => undefined });
    const create = program.commands.find((c) => c.name() === 'principals')!.commands.find((c) => c.name() === 'create')!;
    expect(create.options.find((o) => o.long === '--role')!.argChoices).toEqual([...PRINCIPAL_ROLES]);
    const bad = await admin(['principals', 'create', '--name', 'x', '--role', 'approver'], coord.httpUrl);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.err).toMatch(/Allowed choices are admin, proposer, auditor/);
    await expect(admin(['principals', 'show', '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41'], coord.httpUrl)).rejects.toMatchObject({
      status: 404,
      code: 'PRINCIPAL_NOT_FOUND',
    });
  });
});
