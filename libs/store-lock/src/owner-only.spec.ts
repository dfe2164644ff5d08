import { chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pathsOpenToOthers, restrictTreeToOwner, restrictUmask } from './owner-only.js';

describe('owner-only files', () => {
  let dir: string;
  let umask: number;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'roundtable-owner-'));
    umask = process.umask(0o022);
  });
  afterEach(async () => {
    process.umask(umask);
    await rm(dir, { recursive: true, force: true });
  });

  it('restrictUmask: what the process creates afterwards is its owner\'s only, and set bits stay set', async () => {
    await writeFile(join(dir, 'before'), 'x');
    expect((await stat(join(dir, 'before'))).mode & 0o777).toBe(0o644);
    restrictUmask();
    await writeFile(join(dir, 'after'), 'x');
    await mkdir(join(dir, 'sub'));
    expect((await stat(join(dir, 'after'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'sub'))).mode & 0o777).toBe(0o700);
    process.umask(0o277);
    restrictUmask();
    expect(process.umask(0o022)).toBe(0o277);
  });

  it('restrictTreeToOwner: directories 0700, files at most 0600, links left alone', async () => {
    await mkdir(join(dir, 'a', 'b'), { recursive: true });
    await chmod(join(dir, 'a'), 0o755);
    await writeFile(join(dir, 'a', 'world'), 'x');
    await chmod(join(dir, 'a', 'world'), 0o666);
    await writeFile(join(dir, 'a', 'b', 'exec'), 'x');
    await chmod(join(dir, 'a', 'b', 'exec'), 0o755);
    await writeFile(join(dir, 'read-only'), 'x');
    await chmod(join(dir, 'read-only'), 0o444);
    const outside = join(dir, '..', `${dir.split('/').pop()!}-outside`);
    await writeFile(outside, 'x');
    await chmod(outside, 0o644);
    await symlink(outside, join(dir, 'link'));
    try {
      expect((await pathsOpenToOthers(dir)).length).toBeGreaterThan(0);
      await restrictTreeToOwner(dir);
      expect(await pathsOpenToOthers(dir)).toEqual([]);
      expect((await stat(join(dir, 'a', 'b', 'exec'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, 'read-only'))).mode & 0o777).toBe(0o400);
      expect((await stat(outside)).mode & 0o777).toBe(0o644);
    } finally {
      await rm(outside, { force: true });
    }
  });
});
