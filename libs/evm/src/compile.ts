import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import solc from 'solc';
import type { Abi } from 'viem';
import { contractsDir, type ContractArtifact } from './artifacts.js';

/**
 * solc-js (the npm package bundles the compiler: offline, deterministic) over standard JSON input with
 * pinned settings. Used by `npm run contracts:build` and by the tests (the freshness check, and test
 * harness contracts compiled next to ours). Not exported from the lib's index: solc is a devDependency
 * and must not load in the coordinator.
 */

/**
 * Pinned compiler settings. evmVersion cancun: what the L1 and the major L2s run (PUSH0, MCOPY), and older
 * than the local EVM's default hardfork.
 */
export const COMPILER_SETTINGS = Object.freeze({
  optimizer: { enabled: true, runs: 10_000 },
  evmVersion: 'cancun',
  viaIR: false,
  metadata: { bytecodeHash: 'ipfs' },
});

/** The compiler version the committed artifacts are built with; a different solc-js fails the build. */
export const SOLC_VERSION = '0.8.37+commit.f401782d.Emscripten.clang';

export class SolidityCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SolidityCompileError';
  }
}

/** contracts/*.sol, by file name (the source unit names the imports use). */
export function contractSources(dir: string = contractsDir()): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sol')).sort()) out[file] = readFileSync(join(dir, file), 'utf8');
  return out;
}

/** SHA-256 over the sorted (name, content) pairs, each length-prefixed: changes with any source. */
export function sourceHash(sources: Record<string, string>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(sources).sort()) {
    for (const part of [name, sources[name] ?? '']) {
      const bytes = Buffer.from(part, 'utf8');
      h.update(`${bytes.length}:`);
      h.update(bytes);
    }
  }
  return h.digest('hex');
}

/** The two calls made on solc-js, typed (its own declarations type them `any`). */
const compiler = solc as unknown as { version(): string; compile(input: string): string };

interface SolcOutput {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>;
}

/**
 * Compiles the given sources (name → content) and returns an artifact for every contract (libraries
 * included), keyed by contract name. Any error, and any warning, fails: the contracts must compile clean.
 */
export function compileSolidity(sources: Record<string, string>): Record<string, ContractArtifact> {
  const version = compiler.version();
  if (version !== SOLC_VERSION) throw new SolidityCompileError(`solc ${version} is installed; the artifacts are pinned to ${SOLC_VERSION}`);
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([name, content]) => [name, { content }])),
    settings: { ...COMPILER_SETTINGS, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } } },
  };
  const output = JSON.parse(compiler.compile(JSON.stringify(input))) as SolcOutput;
  const problems = (output.errors ?? []).filter((e) => e.severity !== 'info');
  if (problems.length > 0) throw new SolidityCompileError(problems.map((e) => e.formattedMessage).join('\n'));
  const hash = sourceHash(sources);
  const artifacts: Record<string, ContractArtifact> = {};
  for (const [sourceName, contracts] of Object.entries(output.contracts ?? {})) {
    for (const [contractName, c] of Object.entries(contracts)) {
      artifacts[contractName] = {
        contractName,
        sourceName,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
        compiler: version,
        settings: { ...COMPILER_SETTINGS },
        sourceHash: hash,
      };
    }
  }
  return artifacts;
}
