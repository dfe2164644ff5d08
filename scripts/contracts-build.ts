import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifactsDir, CONTRACT_NAMES } from '#evm';
import { compileSolidity, contractSources } from '../libs/evm/src/compile.js';

/**
 * `npm run contracts:build`: compiles contracts/*.sol with the pinned solc-js and settings and writes
 * contracts/artifacts/<Name>.json for the contracts Roundtable deploys. Commit the result: a test
 * recompiles and fails on any difference.
 */
const artifacts = compileSolidity(contractSources());
for (const name of CONTRACT_NAMES) {
  const artifact = artifacts[name];
  if (!artifact) throw new Error(`contracts/ has no contract ${name}`);
  const file = join(artifactsDir(), `${name}.json`);
  writeFileSync(file, `${JSON.stringify(artifact, null, 2)}\n`);
  process.stdout.write(`${file}: ${(artifact.deployedBytecode.length - 2) / 2} bytes deployed\n`);
}
