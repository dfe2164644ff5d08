import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findRoundtablePackage, roundtableVersion } from './roundtable-package.js';

const here = dirname(fileURLToPath(import.meta.url));
const repositoryRoot = join(here, '..', '..', '..');

describe('findRoundtablePackage', () => {
  let tree: string;
  beforeEach(async () => {
    tree = await mkdtemp(join(tmpdir(), 'roundtable-package-'));
  });
  afterEach(async () => {
    await rm(tree, { recursive: true, force: true });
  });

  it('finds the repository root and its version from a directory of the sources', async () => {
    const pkg = JSON.parse(await readFile(join(repositoryRoot, 'package.json'), 'utf8')) as { version: string };
    expect(findRoundtablePackage(here)).toEqual({ dir: repositoryRoot, version: pkg.version });
    expect(roundtableVersion(here, '0.0.0')).toBe(pkg.version);
  });

  it('skips a package.json of another name on the way up', async () => {
    const nested = join(tree, 'node_modules', 'other', 'lib');
    await mkdir(nested, { recursive: true });
    await writeFile(join(tree, 'package.json'), JSON.stringify({ name: 'roundtable', version: '9.8.7' }));
    await writeFile(join(tree, 'node_modules', 'other', 'package.json'), JSON.stringify({ name: 'other', version: '1.0.0' }));
    expect(findRoundtablePackage(nested)).toEqual({ dir: tree, version: '9.8.7' });
  });

  it('gives the directory but no version when the package names none', async () => {
    await writeFile(join(tree, 'package.json'), JSON.stringify({ name: 'roundtable' }));
    expect(findRoundtablePackage(tree)).toEqual({ dir: tree, version: undefined });
    expect(roundtableVersion(tree, 'unknown')).toBe('unknown');
  });

  it('finds nothing above the filesystem root, and the fallback stands in', () => {
    expect(findRoundtablePackage('/')).toBeUndefined();
    expect(roundtableVersion('/', '0.0.0')).toBe('0.0.0');
  });
});
