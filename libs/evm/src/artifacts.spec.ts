import { describe, expect, it } from 'vitest';
import { CONTRACT_NAMES, loadArtifact } from './artifacts.js';
import { compileSolidity, contractSources, SOLC_VERSION, sourceHash } from './compile.js';

/** The committed contracts/artifacts/*.json are exactly what contracts/*.sol compiles to now. */
describe('contract artifacts', () => {
  const fresh = compileSolidity(contractSources());

  for (const name of CONTRACT_NAMES) {
    it(`${name}.json equals a fresh compile (run \`npm run contracts:build\` after editing contracts/)`, () => {
      const committed = loadArtifact(name);
      expect(committed).toEqual(fresh[name]);
      expect(committed.compiler).toBe(SOLC_VERSION);
      expect(committed.sourceHash).toBe(sourceHash(contractSources()));
      expect(committed.deployedBytecode.length).toBeGreaterThan(2);
    });
  }

  it('a changed source changes the hash and fails the comparison', () => {
    const sources = contractSources();
    const edited = { ...sources, 'FrostEip1271Signer.sol': `${sources['FrostEip1271Signer.sol'] ?? ''}\n// edited\n` };
    expect(sourceHash(edited)).not.toBe(sourceHash(sources));
    expect(compileSolidity(edited).FrostEip1271Signer).not.toEqual(loadArtifact('FrostEip1271Signer'));
  });
});
