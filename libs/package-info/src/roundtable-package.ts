import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository's own package.json, as found on the way up: where it is, and its version. */
export interface RoundtablePackage {
  /** The directory holding it: the repository root (or the image's /app). */
  dir: string;
  /** Its `version`, when it is a string. */
  version: string | undefined;
}

/** The package name that marks the repository's own package.json. */
export const ROUNDTABLE_PACKAGE_NAME = 'roundtable';

/**
 * The nearest package.json named `roundtable` in `from` or a directory above it, or undefined. The
 * apps and libs ask from their own file's directory, so the lookup holds from the sources (Vitest),
 * from dist/ and in the image alike; the package is recognized by its name, so that a package.json of
 * another tree on the way (a dependency's, a fixture's) is skipped. One walk for the CLIs' --version,
 * the coordinator's version and the repository root of libs/evm, which used to repeat it.
 */
export function findRoundtablePackage(from: string): RoundtablePackage | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === ROUNDTABLE_PACKAGE_NAME) return { dir, version: typeof pkg.version === 'string' ? pkg.version : undefined };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The version of the `roundtable` package.json above `from`, or `fallback` when there is none (or it has none). */
export function roundtableVersion(from: string, fallback: string): string {
  return findRoundtablePackage(from)?.version ?? fallback;
}
