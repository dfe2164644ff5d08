import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

// Nest's dependency injection reads `design:paramtypes`, which esbuild does not emit;
// SWC compiles the sources (decorators + metadata) and the `#lib` imports resolve to sources.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: [
      { find: '#protocol', replacement: here('./libs/protocol/src/index.ts') },
      { find: '#api', replacement: here('./libs/api/src/index.ts') },
      { find: '#crypto', replacement: here('./libs/crypto/src/index.ts') },
      { find: '#intent', replacement: here('./libs/intent/src/index.ts') },
      { find: '#verify', replacement: here('./libs/verify/src/index.ts') },
      { find: '#audit', replacement: here('./libs/audit/src/index.ts') },
      { find: '#domain', replacement: here('./libs/domain/src/index.ts') },
      { find: '#persistence', replacement: here('./libs/persistence/src/index.ts') },
      { find: '#store-lock', replacement: here('./libs/store-lock/src/index.ts') },
      { find: '#package-info', replacement: here('./libs/package-info/src/index.ts') },
      { find: '#signer', replacement: here('./libs/signer/src/index.ts') },
      { find: '#harness', replacement: here('./libs/harness/src/index.ts') },
      { find: '#agent', replacement: here('./libs/agent/src/index.ts') },
      { find: '#sdk', replacement: here('./libs/sdk/src/index.ts') },
      { find: '#evm-local', replacement: here('./libs/evm/src/local/index.ts') },
      { find: '#evm', replacement: here('./libs/evm/src/index.ts') },
      { find: '#coordinator', replacement: here('./apps/coordinator/src/index.ts') },
    ],
  },
  test: {
    include: ['{apps,libs,test}/**/*.{spec,e2e-spec}.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: [],
    reporters: ['default'],
  },
});
