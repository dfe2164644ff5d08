import { join } from 'node:path';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { openTestKeystore } from '../../../../libs/signer/src/testing/key-fixtures.js';
import { holdStoreLockInChild } from '../../../../libs/store-lock/src/testing/store-lock-holder.js';
import { ExitCode } from '../cli-io.js';
import { captureIo, useCommandSandbox } from './cli-test-support.js';
import { runIdentityCommand } from './identity.command.js';
import { runInitCommand } from './init.command.js';


describe('init and identity commands', () => {
  const sandbox = useCommandSandbox();

  it('init prints {publicKey, keystore}; identity prints the same key', async () => {
    const keystore = join(sandbox.dir.path, 'ks');
    const init = captureIo();
    expect(await runInitCommand({ keystore }, init.io)).toBe(ExitCode.OK);
    const printed = JSON.parse(init.out.join('\n')) as { publicKey: string; keystore: string };
    expect(printed).toEqual({ publicKey: (await openTestKeystore(keystore)).publicKey, keystore });

    const identity = captureIo();
    expect(await runIdentityCommand({ keystore }, identity.io)).toBe(ExitCode.OK);
    expect(identity.out).toEqual([printed.publicKey]);
  });

  it('init refuses to overwrite an identity without --force', async () => {
    const keystore = join(sandbox.dir.path, 'ks');
    await runInitCommand({ keystore }, captureIo().io);
    const again = captureIo();
    expect(await runInitCommand({ keystore }, again.io)).toBe(ExitCode.ERROR);
    expect(again.err.join('\n')).toMatch(/already has an identity.*--force/);
    const forced = captureIo();
    expect(await runInitCommand({ keystore, force: true }, forced.io)).toBe(ExitCode.OK);
  });

  it('init --force refuses a keystore another process holds (exit 5), and keeps its identity', async () => {
    const keystore = join(sandbox.dir.path, 'ks');
    await runInitCommand({ keystore }, captureIo().io);
    const before = await readFile(join(keystore, 'identity.json'), 'utf8');
    const holder = await holdStoreLockInChild(keystore);
    try {
      const forced = captureIo();
      expect(await runInitCommand({ keystore, force: true }, forced.io)).toBe(ExitCode.KEYSTORE_IN_USE);
      expect(forced.err).toEqual([`error: keystore ${keystore} is in use by another process (pid ${holder.pid}); stop it first`]);
      expect(await readFile(join(keystore, 'identity.json'), 'utf8')).toBe(before);
    } finally {
      await holder.stop();
    }
    expect(await runInitCommand({ keystore, force: true }, captureIo().io)).toBe(ExitCode.OK);
    expect(await readFile(join(keystore, 'identity.json'), 'utf8')).not.toBe(before);
  });

  it('identity on a missing keystore says to run init', async () => {
    const c = captureIo();
    expect(await runIdentityCommand({ keystore: join(sandbox.dir.path, 'nope') }, c.io)).toBe(ExitCode.ERROR);
    expect(c.err.join('\n')).toMatch(/does not exist.*init --keystore/);
  });

  it('takes the passphrase from --passphrase-file before the environment, and refuses a missing or empty one', async () => {
    const keystore = join(sandbox.dir.path, 'ks');
    const file = join(sandbox.dir.path, 'pass.txt');
    await writeFile(file, 'from the file\n');
    expect(await runInitCommand({ keystore, passphraseFile: file }, captureIo().io)).toBe(ExitCode.OK);
    const wrong = captureIo();
    expect(await runIdentityCommand({ keystore }, wrong.io)).toBe(ExitCode.ERROR);
    expect(wrong.err.join('\n')).toMatch(/wrong passphrase/);
    expect(await runIdentityCommand({ keystore, passphraseFile: file }, captureIo().io)).toBe(ExitCode.OK);

    vi.stubEnv('ROUNDTABLE_PASSPHRASE', '');
    const missing = captureIo();
    expect(await runInitCommand({ keystore: join(sandbox.dir.path, 'other') }, missing.io)).toBe(ExitCode.ERROR);
    expect(missing.err.join('\n')).toMatch(/passphrase is required.*ROUNDTABLE_PASSPHRASE.*--passphrase-file/);
    await expect(stat(join(sandbox.dir.path, 'other'))).rejects.toThrow();
    await writeFile(file, '\n');
    const empty = captureIo();
    expect(await runInitCommand({ keystore: join(sandbox.dir.path, 'other'), passphraseFile: file }, empty.io)).toBe(ExitCode.ERROR);
    expect(empty.err.join('\n')).toMatch(/must not be empty/);
  });
});
