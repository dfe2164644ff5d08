import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRoundtablePackage } from '#package-info';
import type { Abi, Hex } from 'viem';

/**
 * The committed build of contracts/*.sol (`npm run contracts:build` writes contracts/artifacts/<Name>.json;
 * a test recompiles and fails when they differ). Read from the repository, so the same code works from
 * sources (Vitest) and from dist/ (the demo), with the same lookup as the CLIs' versions (#package-info).
 */

/** The contracts Roundtable ships, by contract name. */
export const CONTRACT_NAMES = ['FrostEip1271Signer'] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

export interface ContractArtifact {
  contractName: string;
  /** The source unit the contract is declared in, relative to contracts/. */
  sourceName: string;
  abi: Abi;
  /** Creation code (constructor arguments are appended, ABI-encoded). */
  bytecode: Hex;
  deployedBytecode: Hex;
  /** solc's full version, e.g. 0.8.37+commit.f401782d.Emscripten.clang. */
  compiler: string;
  /** The standard-JSON `settings` the bytecode was compiled with (output selection left out). */
  settings: Record<string, unknown>;
  /** SHA-256 over the sources of the compilation (see compile.ts), hex. */
  sourceHash: string;
}

/** The repository root: the nearest directory upwards holding the `roundtable` package.json. */
export function repositoryRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  const found = findRoundtablePackage(from);
  if (!found) throw new Error(`no roundtable package.json above ${from}`);
  return found.dir;
}

export const contractsDir = (root: string = repositoryRoot()): string => join(root, 'contracts');
export const artifactsDir = (root: string = repositoryRoot()): string => join(contractsDir(root), 'artifacts');

/** A committed artifact, e.g. `loadArtifact('FrostEip1271Signer')`. */
export function loadArtifact(name: ContractName, root: string = repositoryRoot()): ContractArtifact {
  return JSON.parse(readFileSync(join(artifactsDir(root), `${name}.json`), 'utf8')) as ContractArtifact;
}
