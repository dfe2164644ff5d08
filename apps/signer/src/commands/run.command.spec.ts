import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '#signer';
import { FakeCoordinator } from '../../../../libs/signer/src/testing/fake-coordinator.js';
import { testIntent } from '../../../../libs/signer/src/testing/intent-fixtures.js';
import { TEST_PASSPHRASE, initTestKeystore, openTestKeystore, tempDir } from '../../../../libs/signer/src/testing/key-fixtures.js';
import { holdStoreLockInChild } from '../../../../libs/store-lock/src/testing/store-lock-holder.js';
import { ExitCode } from '../cli-io.js';
import { captureIo } from './cli-test-support.js';
import { nodePolicyFromOptions, runCommand, runSignerNode, type RunCommandOptions } from './run.command.js';


describe('run command', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let keystore: string;
  let fake: FakeCoordinator | undefined;
  beforeEach(async () => {
    dir = await tempDir();
    keystore = join(dir.path, 'ks');
    await initTestKeystore(keystore);
    vi.stubEnv('ROUNDTABLE_PASSPHRASE', TEST_PASSPHRASE);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await fake?.close();
    fake = undefined;
    await dir.cleanup();
  });

  const run = (options: Partial<RunCommandOptions>, signal?: AbortSignal) => {
    const c = captureIo();
    const exit = runSignerNode(
      { keystore, coordinator: fake?.url ?? 'ws://127.0.0.1:9', approveAll: true, ...options },
      { io: c.io, logger: silentLogger, reconnect: { initialMs: 20, maxMs: 100 }, ...(signal ? { signal } : {}) },
    );
    return { exit, err: c.err };
  };

  it('exits 3 with the public key to enroll when the coordinator does not know the node', async () => {
    fake = await FakeCoordinator.start({ authenticate: () => ({ closeCode: 4404 }) });
    const { exit, err } = run({});
    expect(await exit).toBe(ExitCode.NOT_ENROLLED);
    const { publicKey } = await openTestKeystore(keystore);
    expect(err.join('\n')).toMatch(new RegExp(`enroll public key ${publicKey}`));
  });

  it('exits 3 when the node was revoked, naming both ways back (restore, or a new identity)', async () => {
    fake = await FakeCoordinator.start({ authenticate: () => ({ closeCode: 4403 }) });
    const { exit, err } = run({});
    expect(await exit).toBe(ExitCode.NOT_ENROLLED);
    const { publicKey } = await openTestKeystore(keystore);
    const message = err.join('\n');
    expect(message).toContain(`revoked this node (public key ${publicKey})`);
    expect(message).toContain('admin nodes restore <nodeId>');
    expect(message).toContain(`signer init --keystore ${keystore} --force`);
  });

  it('exits 4 when the coordinator id is not the expected one', async () => {
    fake = await FakeCoordinator.start();
    const { exit, err } = run({ coordinatorId: 'someone-else' });
    expect(await exit).toBe(ExitCode.AUTH_REFUSED);
    expect(err.join('\n')).toMatch(/refusing to authenticate/);
  });

  it('runs until aborted, then exits 0', async () => {
    fake = await FakeCoordinator.start({ authenticate: () => ({ nodeId: randomUUID() }) });
    const controller = new AbortController();
    const connecting = fake.nextConnection();
    const { exit } = run({}, controller.signal);
    const conn = await connecting;
    await conn.authenticated();
    controller.abort();
    expect(await exit).toBe(ExitCode.OK);
    expect((await conn.closed).code).toBe(1000);
  });

  it('--refuse-ceremonies: the node aborts every key generation ceremony with PARAMETERS_REFUSED', async () => {
    expect(runCommand().options.map((o) => o.long)).toContain('--refuse-ceremonies');
    fake = await FakeCoordinator.start({ authenticate: () => ({ nodeId: randomUUID() }) });
    const controller = new AbortController();
    const connecting = fake.nextConnection();
    const { exit } = run({ refuseCeremonies: true }, controller.signal);
    const conn = await connecting;
    await conn.authenticated();
    const { publicKey } = await openTestKeystore(keystore);
    const other = await initTestKeystore(join(dir.path, 'other'));
    const ceremonyId = randomUUID();
    conn.send({
      type: 'ceremony.start',
      ceremonyId,
      keyId: randomUUID(),
      suite: 'ed25519',
      threshold: 2,
      participants: [
        { nodeId: conn.nodeId!, identifier: '01'.padEnd(64, '0'), identityKey: publicKey },
        { nodeId: randomUUID(), identifier: '02'.padEnd(64, '0'), identityKey: other.publicKey },
      ],
      deadline: Date.now() + 30_000,
    });
    expect(await conn.next('ceremony.abort')).toMatchObject({ ceremonyId, code: 'PARAMETERS_REFUSED' });
    controller.abort();
    expect(await exit).toBe(ExitCode.OK);
  });

  it('keeps retrying an unreachable coordinator until stopped', async () => {
    const controller = new AbortController();
    const { exit } = run({ coordinator: 'ws://127.0.0.1:9/v1/nodes/ws' }, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort();
    expect(await exit).toBe(ExitCode.OK);
  });

  it('exits 5 with one line naming the holder when another process holds the keystore', async () => {
    const holder = await holdStoreLockInChild(keystore);
    try {
      const { exit, err } = run({});
      expect(await exit).toBe(ExitCode.KEYSTORE_IN_USE);
      expect(err).toEqual([`error: keystore ${keystore} is in use by another process (pid ${holder.pid}); stop it first`]);
    } finally {
      await holder.stop();
    }
  });

  it('exits 1 with a clear message for a malformed URL or a missing keystore', async () => {
    const bad = run({ coordinator: 'http://localhost:3000' });
    expect(await bad.exit).toBe(ExitCode.ERROR);
    expect(bad.err.join('\n')).toMatch(/must start with ws:\/\/ or wss:\/\//);
    const missing = run({ keystore: join(dir.path, 'absent') });
    expect(await missing.exit).toBe(ExitCode.ERROR);
    expect(missing.err.join('\n')).toMatch(/does not exist.*init/);
  });

  it('exits 1 with a clear message for a missing or wrong passphrase', async () => {
    vi.stubEnv('ROUNDTABLE_PASSPHRASE', '');
    const missing = run({});
    expect(await missing.exit).toBe(ExitCode.ERROR);
    expect(missing.err.join('\n')).toMatch(/set ROUNDTABLE_PASSPHRASE or pass --passphrase-file/);
    vi.stubEnv('ROUNDTABLE_PASSPHRASE', 'wrong');
    const wrong = run({});
    expect(await wrong.exit).toBe(ExitCode.ERROR);
    expect(wrong.err.join('\n')).toMatch(/wrong passphrase/);
  });

  const subject = (description: string) => ({
    requestId: randomUUID(),
    intent: testIntent('3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41', Date.now(), { description }),
    intentHash: 'ab'.repeat(32),
  });
  const outcomeOf = async (options: Partial<RunCommandOptions>, description = 'Demo payment') =>
    (await (await nodePolicyFromOptions({ keystore, coordinator: '', ...options })).evaluate(subject(description), Date.now())).outcome;

  it('builds the node policy from the --approve-* shorthands, and approves nothing without any (fail closed)', async () => {
    expect(await outcomeOf({ approveAll: true })).toBe('allow');
    expect(await outcomeOf({ approveDescription: '^Demo' })).toBe('allow');
    expect(await outcomeOf({ approveDescription: '^Demo' }, 'Not a Demo')).toBe('deny');
    expect(await outcomeOf({})).toBe('deny');
    await expect(nodePolicyFromOptions({ keystore, coordinator: '', approveMessageText: '(' })).rejects.toThrow(/--approve-message-text: invalid regular expression/);
    await expect(nodePolicyFromOptions({ keystore, coordinator: '', approveAll: true, approveMessageText: 'x' })).rejects.toThrow(/cannot be combined/);
  });

  it('--policy loads the file; it cannot be combined with the shorthands', async () => {
    const file = join(dir.path, 'policy.yaml');
    await writeFile(file, 'version: 1\nrules:\n  - id: demo\n    outcome: ask\n    match:\n      description: "^Demo"\n');
    expect(await outcomeOf({ policy: file })).toBe('ask');
    expect(await outcomeOf({ policy: file }, 'payroll')).toBe('deny');
    await expect(nodePolicyFromOptions({ keystore, coordinator: '', policy: file, approveAll: true })).rejects.toThrow(/--policy cannot be combined/);
  });

  it('exits 2 naming the field when the policy file is invalid, before connecting', async () => {
    const file = join(dir.path, 'policy.yaml');
    await writeFile(file, 'version: 1\nrules:\n  - id: demo\n    outcome: maybe\n');
    const { exit, err } = run({ approveAll: undefined, policy: file });
    expect(await exit).toBe(ExitCode.POLICY_INVALID);
    expect(err.join('\n')).toMatch(/line 4/);
    expect(err.join('\n')).toMatch(/outcome/);
  });

  it('warns at start that it approves nothing when given no policy', async () => {
    fake = await FakeCoordinator.start({ authenticate: () => ({ nodeId: randomUUID() }) });
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_f: object, message?: string) => void warnings.push(message ?? '') };
    const controller = new AbortController();
    const connecting = fake.nextConnection();
    const exit = runSignerNode({ keystore, coordinator: fake.url }, { io: captureIo().io, logger, signal: controller.signal });
    await (await connecting).authenticated();
    controller.abort();
    expect(await exit).toBe(ExitCode.OK);
    expect(warnings.join('\n')).toMatch(/no policy given .*this node will decline every request/);
  });

  it('--approve-message is refused, naming the two flags that replace it', async () => {
    for (const options of [{ approveMessage: '^pay' }, { approveMessage: '^pay', approveAll: true }]) {
      await expect(nodePolicyFromOptions({ keystore, coordinator: '', ...options })).rejects.toThrow(
        /--approve-message is no longer accepted: use --approve-message-text <regex> .* or --approve-message-hex <regex>/,
      );
    }
  });

  it('--approve-key limits every rule to its keys and refuses what is not a key id', async () => {
    const other = '0d9e7c1a-5b3f-4a2e-8c6d-2f1b4e7a9c30';
    expect(await outcomeOf({ approveAll: true, approveKey: [other] })).toBe('deny');
    expect(await outcomeOf({ approveAll: true, approveKey: ['3F2C1A6E-8B1D-4C1E-9A57-0D6F3B2E9C41'] })).toBe('allow');
    await expect(nodePolicyFromOptions({ keystore, coordinator: '', approveAll: true, approveKey: ['payroll'] })).rejects.toThrow(/--approve-key "payroll" is not a key id/);
  });

  it('the command line: the text and hex flags exclude each other and --approve-all; --approve-key repeats', async () => {
    const parse = async (args: string[]) => {
      const command = runCommand().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
      command.action(() => undefined);
      await command.parseAsync(['--keystore', keystore, '--coordinator', 'ws://x', ...args], { from: 'user' });
      return command.opts<RunCommandOptions>();
    };
    const a = '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41';
    const b = '0d9e7c1a-5b3f-4a2e-8c6d-2f1b4e7a9c30';
    expect(await parse(['--approve-all', '--approve-key', a, '--approve-key', b])).toMatchObject({ approveAll: true, approveKey: [a, b] });
    expect(await parse(['--approve-message-hex', '^de'])).toMatchObject({ approveMessageHex: '^de' });
    await expect(parse(['--approve-message-text', 'x', '--approve-message-hex', 'y'])).rejects.toThrow(/cannot be used with/);
    await expect(parse(['--approve-all', '--approve-message-text', 'x'])).rejects.toThrow(/cannot be used with/);
    // Still parsed, so that the node can say which flags replace it.
    expect(await parse(['--approve-message', 'x'])).toMatchObject({ approveMessage: 'x' });
    const help = runCommand().helpInformation();
    expect(help).toMatch(/--approve-message-text <regex>/);
    expect(help).toMatch(/--approve-message-hex <regex>/);
    expect(help).not.toMatch(/--approve-message </);
  });

  it('exits 1 with the replacement flags when run with --approve-message', async () => {
    const { exit, err } = run({ approveAll: undefined, approveMessage: '^pay' });
    expect(await exit).toBe(ExitCode.ERROR);
    expect(err.join('\n')).toMatch(/--approve-message-text <regex>.*--approve-message-hex <regex>/);
  });
});
