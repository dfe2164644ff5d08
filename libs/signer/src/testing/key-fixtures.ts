import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { commit, dealKey, getSuite, type CommitmentHex, type PublicKeyPackage, type SuiteId } from '#crypto';
import { Keystore } from '../keystore/keystore.js';

/** A temporary directory for one test; `cleanup` removes it. */
export async function tempDir(prefix = 'roundtable-signer-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export interface DealtTestKey {
  keyId: string;
  suite: SuiteId;
  publicPackage: PublicKeyPackage;
  /** identifier by participant index (0-based). */
  identifiers: string[];
  /** secret share by identifier. */
  secretShares: Record<string, string>;
  /** keystore directory by participant index; empty for participants without a keystore. */
  keystores: string[];
}

/**
 * Deals a t-of-n key and writes the shares of the first `withKeystores` participants into fresh
 * keystores under `root`; the other shares stay with the test, to play the other signers.
 */
export async function dealTestKey(
  root: string,
  options: { suite: SuiteId; threshold: number; maxSigners: number; withKeystores: number },
): Promise<DealtTestKey> {
  const suite = getSuite(options.suite);
  const dealt = dealKey(options.suite, options.threshold, options.maxSigners);
  const keyId = randomUUID();
  const identifiers = Array.from({ length: options.maxSigners }, (_, i) => suite.identifier(i + 1));
  const keystores: string[] = [];
  for (let i = 0; i < options.withKeystores; i++) {
    const dir = join(root, `node-${i + 1}`);
    const keystore = await Keystore.init(dir);
    const identifier = identifiers[i]!;
    await keystore.writeShare({
      keyId,
      suite: options.suite,
      identifier,
      signingShare: dealt.secretShares[identifier]!,
      publicPackage: dealt.public,
    });
    keystores.push(dir);
  }
  return { keyId, suite: options.suite, publicPackage: dealt.public, identifiers, secretShares: dealt.secretShares, keystores };
}

/** A commitment made by participant `index` with its real share (the test plays that signer). */
export function commitAs(key: DealtTestKey, index: number): CommitmentHex {
  const identifier = key.identifiers[index]!;
  return commit(key.suite, identifier, key.secretShares[identifier]!).commitment;
}
