import { afterEach, beforeEach, vi } from 'vitest';
import { TEST_PASSPHRASE, tempDir } from '../../../../libs/signer/src/testing/key-fixtures.js';

/** Collects what a command writes to stdout and stderr. */
export function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) }, out, err };
}

/**
 * A fresh temporary directory per test, with the operator's passphrase and a cheap KDF in the
 * environment, both undone after the test. Fields are set once `beforeEach` has run.
 */
export function useCommandSandbox(): { dir: { path: string; cleanup: () => Promise<void> } } {
  const ctx = {} as { dir: { path: string; cleanup: () => Promise<void> } };
  beforeEach(async () => {
    ctx.dir = await tempDir();
    vi.stubEnv('ROUNDTABLE_PASSPHRASE', TEST_PASSPHRASE);
    vi.stubEnv('ROUNDTABLE_KDF_COST', 'test');
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await ctx.dir.cleanup();
  });
  return ctx;
}
