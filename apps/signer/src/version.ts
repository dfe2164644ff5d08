import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { roundtableVersion } from '#package-info';

/**
 * The version `signer --version` prints: the repository's package.json version, found by walking up
 * from this file (libs/package-info), so it holds from the sources (vitest), from dist/ and in the
 * image alike; 0.0.0 when there is none above `from`.
 */
export function signerVersion(from: string = dirname(fileURLToPath(import.meta.url))): string {
  return roundtableVersion(from, '0.0.0');
}
