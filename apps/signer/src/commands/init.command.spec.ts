import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keystore } from '#signer';
import { tempDir } from '../../../../libs/signer/src/testing/key-fixtures.js';
import { ExitCode } from '../cli-io.js';
import { runIdentityCommand } from './identity.command.js';
import { runInitCommand } from './init.command.js';

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) }, out, err };
}

describe('init and identity commands', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(() => dir.cleanup());

  it('init prints {publicKey, keystore}; identity prints the same key', async () => {
    const keystore = join(dir.path, 'ks');
    const init = captureIo();
    expect(await runInitCommand({ keystore }, init.io)).toBe(ExitCode.OK);
    const printed = JSON.parse(init.out.join('\n')) as { publicKey: string; keystore: string };
    expect(printed).toEqual({ publicKey: (await Keystore.open(keystore)).publicKey, keystore });

    const identity = captureIo();
    expect(await runIdentityCommand({ keystore }, identity.io)).toBe(ExitCode.OK);
    expect(identity.out).toEqual([printed.publicKey]);
  });

  it('init refuses to overwrite an identity without --force', async () => {
    const keystore = join(dir.path, 'ks');
    await runInitCommand({ keystore }, captureIo().io);
    const again = captureIo();
    expect(await runInitCommand({ keystore }, again.io)).toBe(ExitCode.ERROR);
    expect(again.err.join('\n')).toMatch(/already has an identity.*--force/);
    const forced = captureIo();
    expect(await runInitCommand({ keystore, force: true }, forced.io)).toBe(ExitCode.OK);
  });

  it('identity on a missing keystore says to run init', async () => {
    const c = captureIo();
    expect(await runIdentityCommand({ keystore: join(dir.path, 'nope') }, c.io)).toBe(ExitCode.ERROR);
    expect(c.err.join('\n')).toMatch(/does not exist.*init --keystore/);
  });
});
