import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFile, readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dealKey, getSuite, type DealtKey } from '#crypto';
import { lockKeystore, runDealer, silentLogger, type KeyRegistration } from '#signer';
import { unusableGroupKey } from '../../../../libs/evm/src/evm-test-support.js';
import { initTestKeystore, openTestKeystore, tempDir } from '../../../../libs/signer/src/testing/key-fixtures.js';
import { ExitCode } from '../cli-io.js';
import { buildProgram } from '../program.js';
import { runDealerCommand } from './dealer.command.js';

const TOKEN = 'admin-secret';

/** The coordinator's admin REST API, as much as the dealer uses. */
class FakeAdminApi {
  readonly nodes: { id: string; label: string; publicKey: string; status: string }[] = [];
  readonly registered: KeyRegistration[] = [];
  readonly rawBodies: string[] = [];
  registerStatus = 201;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  enroll(publicKey: string, status = 'active'): string {
    const id = randomUUID();
    this.nodes.push({ id, label: `node ${this.nodes.length + 1}`, publicKey, status });
    return id;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, { error: { code: 'UNAUTHORIZED', message: 'bad token' } });
    if (req.method === 'GET' && req.url === '/v1/nodes') return reply(200, this.nodes);
    if (req.method === 'POST' && req.url === '/v1/keys') {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      this.rawBodies.push(body);
      if (this.registerStatus !== 201) {
        return reply(this.registerStatus, { error: { code: this.registerStatus === 409 ? 'KEY_ALREADY_EXISTS' : 'INTERNAL', message: 'no' } });
      }
      const key = JSON.parse(body) as KeyRegistration;
      this.registered.push(key);
      return reply(201, { ...key, status: 'active', groupPublicKey: key.commitments[0] });
    }
    reply(404, { error: { code: 'NOT_FOUND', message: 'no route' } });
  }
}

describe('dealer', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let api: FakeAdminApi;
  let keystores: string[];
  let publicKeys: string[];

  beforeEach(async () => {
    dir = await tempDir();
    api = new FakeAdminApi();
    await api.start();
    keystores = [];
    publicKeys = [];
    for (let i = 1; i <= 3; i++) {
      const path = join(dir.path, `node-${i}`);
      publicKeys.push((await initTestKeystore(path)).publicKey);
      keystores.push(path);
    }
  });
  afterEach(async () => {
    await api.close();
    await dir.cleanup();
  });

  const deal = (overrides: Partial<Parameters<typeof runDealer>[0]> = {}) =>
    runDealer({ coordinatorUrl: api.url, adminToken: TOKEN, suite: 'secp256k1', threshold: 2, keystores, logger: silentLogger, ...overrides });

  it('seals each share to its node into the keystore inbox, without passphrases, and registers only the public package', async () => {
    const nodeIds = publicKeys.map((pk) => api.enroll(pk));
    const result = await deal({ suite: 'ed25519' });
    const sealed = await Promise.all(keystores.map((k) => readFile(join(k, 'inbox', `${result.keyId}.sealed.json`), 'utf8')));
    sealed.forEach((text, i) => expect(JSON.parse(text)).toMatchObject({ recipient: publicKeys[i], keyId: result.keyId }));

    const suite = getSuite('ed25519');
    // each node opens its own sealed share (imported when first asked for)
    const shares = await Promise.all(keystores.map(async (k) => (await openTestKeystore(k)).readShare(result.keyId)));
    for (const k of keystores) expect(await readdir(join(k, 'inbox'))).toEqual([]);
    sealed.forEach((text, i) => expect(text).not.toContain(shares[i]!.signingShare));
    shares.forEach((share, i) => expect(share.identifier).toBe(suite.identifier(i + 1)));

    expect(api.registered).toHaveLength(1);
    const registered = api.registered[0]!;
    expect(registered).toMatchObject({ id: result.keyId, suite: 'ed25519', threshold: 2, maxSigners: 3 });
    expect(registered.members).toEqual(nodeIds.map((nodeId, i) => ({ nodeId, identifier: suite.identifier(i + 1) })));
    expect(registered.verifyingShares).toEqual(shares[0]!.publicPackage.verifyingShares);
    expect(Object.keys(registered).sort()).toEqual(['commitments', 'id', 'maxSigners', 'members', 'suite', 'threshold', 'verifyingShares']);
    // no secret share travels to the coordinator
    for (const share of shares) expect(api.rawBodies[0]).not.toContain(share.signingShare);
    expect(result.key).toMatchObject({ id: result.keyId, status: 'active' });
  });

  it('delivers into the inbox of keystores that running nodes hold: the dealer takes no keystore lock', async () => {
    publicKeys.forEach((pk) => api.enroll(pk));
    const locks = await Promise.all(keystores.map((k) => lockKeystore(k)));
    try {
      const result = await deal();
      for (const k of keystores) expect(await readdir(join(k, 'inbox'))).toEqual([`${result.keyId}.sealed.json`]);
    } finally {
      for (const lock of locks) await lock.release();
    }
  });

  it('names the keystore whose node is not enrolled, and writes nothing', async () => {
    api.enroll(publicKeys[0]!);
    api.enroll(publicKeys[2]!);
    await expect(deal()).rejects.toMatchObject({ code: 'NODE_NOT_ENROLLED', message: expect.stringContaining(keystores[1]!) as unknown });
    api.nodes.push({ id: randomUUID(), label: 'x', publicKey: publicKeys[1]!, status: 'revoked' });
    await expect(deal()).rejects.toMatchObject({ code: 'NODE_NOT_ENROLLED', message: expect.stringMatching(/is revoked/) as unknown });
    for (const k of keystores) expect(await readdir(join(k, 'inbox'))).toEqual([]);
    expect(api.registered).toEqual([]);
  });

  it('withdraws the sealed shares when the coordinator refuses the key, keeps them when the outcome is unknown', async () => {
    publicKeys.forEach((pk) => api.enroll(pk));
    api.registerStatus = 409;
    await expect(deal()).rejects.toMatchObject({ code: 'COORDINATOR_REJECTED', message: expect.stringMatching(/KEY_ALREADY_EXISTS.*withdrawn/) as unknown });
    for (const k of keystores) expect(await readdir(join(k, 'inbox'))).toEqual([]);

    api.registerStatus = 500;
    const keyId = randomUUID();
    await expect(deal({ keyId })).rejects.toMatchObject({ message: expect.stringMatching(/may or may not be registered/) as unknown });
    for (const k of keystores) expect(await readdir(join(k, 'inbox'))).toEqual([`${keyId}.sealed.json`]);
    // and a second dealing of the same key id is refused
    api.registerStatus = 201;
    await expect(deal({ keyId })).rejects.toMatchObject({ code: 'SHARE_EXISTS' });
  });

  it('rejects a bad token, a bad threshold and a duplicated keystore', async () => {
    publicKeys.forEach((pk) => api.enroll(pk));
    await expect(deal({ adminToken: 'wrong' })).rejects.toMatchObject({ code: 'COORDINATOR_REJECTED', message: expect.stringMatching(/401/) as unknown });
    await expect(deal({ threshold: 4 })).rejects.toMatchObject({ code: 'DEALER_INVALID' });
    await expect(deal({ threshold: 1 })).rejects.toMatchObject({ code: 'DEALER_INVALID' });
    await expect(deal({ keystores: [keystores[0]!, keystores[0]!] })).rejects.toMatchObject({ code: 'DEALER_INVALID' });
  });

  it('runs from the command line with repeated --keystore and the token from ROUNDTABLE_ADMIN_TOKEN', async () => {
    publicKeys.forEach((pk) => api.enroll(pk));
    vi.stubEnv('ROUNDTABLE_ADMIN_TOKEN', TOKEN);
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const exitCode = process.exitCode;
    try {
      const args = ['dealer', '--coordinator', api.url, '--suite', 'secp256k1', '--threshold', '2', '--log-level', 'silent'];
      for (const k of keystores) args.push('--keystore', k);
      await buildProgram().exitOverride().parseAsync(args, { from: 'user' });
      expect(process.exitCode).toBe(ExitCode.OK);
    } finally {
      process.exitCode = exitCode;
      vi.restoreAllMocks();
      vi.unstubAllEnvs();
    }
    const printed = JSON.parse(written.join('')) as { id: string; maxSigners: number };
    expect(printed.maxSigners).toBe(3);
    expect(api.registered[0]?.id).toBe(printed.id);
  });

  /** A secp256k1 key no contract can verify (its x is not below n); nobody knows its discrete log, nor needs to here. */
  const unusableDeal = (): DealtKey => {
    const dealt = dealKey('secp256k1', 2, 3);
    return { ...dealt, public: { ...dealt.public, commitments: [unusableGroupKey(), ...dealt.public.commitments.slice(1)] } };
  };

  it('registers a secp256k1 key that is unusable on the EVM, and says so; --evm deals again until it is usable', async () => {
    publicKeys.forEach((pk) => api.enroll(pk));
    const warned = vi.fn();
    const unusable = await deal({ deal: unusableDeal, logger: { ...silentLogger, warn: warned } });
    expect(unusable.evm).toMatchObject({ usable: false, reason: expect.stringMatching(/not below the curve order/) as unknown });
    expect(api.registered[0]?.commitments[0]).toBe(unusableGroupKey());
    expect(warned).toHaveBeenCalledWith(expect.objectContaining({ keyId: unusable.keyId }), expect.stringMatching(/NOT usable on the EVM/));

    let calls = 0;
    const usable = await deal({ evm: true, deal: (...args) => (++calls === 1 ? unusableDeal() : dealKey(...args)) });
    expect(calls).toBe(2);
    expect(usable.evm).toMatchObject({ usable: true, reason: null });
    expect(api.registered[1]?.commitments[0]).not.toBe(unusableGroupKey());

    await expect(deal({ suite: 'ed25519', evm: true })).rejects.toMatchObject({ code: 'DEALER_INVALID', message: expect.stringMatching(/--evm needs --suite secp256k1/) as unknown });
  });

  it('the command prints a warning line for a key unusable on the EVM, and none for a usable one', async () => {
    publicKeys.forEach((pk) => api.enroll(pk));
    const run = async (deal?: typeof dealKey) => {
      const err: string[] = [];
      const code = await runDealerCommand(
        { coordinator: api.url, adminToken: TOKEN, suite: 'secp256k1', threshold: 2, keystore: keystores, keyId: randomUUID() },
        { io: { stdout: () => undefined, stderr: (t) => err.push(t) }, logger: silentLogger, ...(deal ? { deal } : {}) },
      );
      return { code, err: err.join('\n') };
    };
    const unusable = await run(unusableDeal);
    expect(unusable.code).toBe(ExitCode.OK);
    expect(unusable.err).toMatch(/^warning: key [0-9a-f-]{36} is not usable on the EVM \(.*not below the curve order.*\).*--evm/);
    const usable = await run();
    expect(usable).toEqual({ code: ExitCode.OK, err: '' });
  });

  it('the command reports errors with exit code 1', async () => {
    const err: string[] = [];
    const code = await runDealerCommand(
      { coordinator: api.url, adminToken: TOKEN, suite: 'secp256k1', threshold: 2, keystore: keystores },
      { io: { stdout: () => undefined, stderr: (t) => err.push(t) }, logger: silentLogger },
    );
    expect(code).toBe(ExitCode.ERROR);
    expect(err.join('\n')).toMatch(/is not enrolled/);
  });
});
