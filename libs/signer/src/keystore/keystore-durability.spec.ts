import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initTestKeystore, tempDir } from '../testing/key-fixtures.js';
import { fsyncDirectory } from './atomic-file.js';

vi.mock('./atomic-file.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./atomic-file.js')>();
  return { ...actual, fsyncDirectory: vi.fn(actual.fsyncDirectory) };
});

const KEY_ID = '6f9619ff-8b86-4d11-b42d-00c04fc964ff';
const exists = (path: string) => stat(path).then(() => true, () => false);

describe('Keystore durability', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    vi.mocked(fsyncDirectory).mockClear();
    await dir.cleanup();
  });

  it("markPending makes pending/ durable in the keystore directory before it writes the mark (a share never outlives its mark)", async () => {
    const keystore = await initTestKeystore(join(dir.path, 'ks'));
    const pendingDir = join(keystore.dir, 'pending');
    const marker = join(pendingDir, `${KEY_ID}.pending`);
    const seen: { pendingDir: boolean; marker: boolean }[] = [];
    vi.mocked(fsyncDirectory).mockClear();
    vi.mocked(fsyncDirectory).mockImplementation(async (path) => {
      if (path === keystore.dir) seen.push({ pendingDir: await exists(pendingDir), marker: await exists(marker) });
      const actual = await vi.importActual<typeof import('./atomic-file.js')>('./atomic-file.js');
      await actual.fsyncDirectory(path);
    });
    await keystore.markPending(KEY_ID);
    expect(seen).toEqual([{ pendingDir: true, marker: false }]);
    expect(await exists(marker)).toBe(true);
    // Again with pending/ already there (made by an earlier process that may have crashed before syncing it).
    await keystore.clearPending(KEY_ID);
    seen.length = 0;
    await keystore.markPending(KEY_ID);
    expect(seen).toEqual([{ pendingDir: true, marker: false }]);
  });
});
