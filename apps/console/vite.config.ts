import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/**
 * The web console: a static SPA (Preact, JSX compiled by Vite's own esbuild: no plugin) written to
 * dist/console and served by the coordinator at /console. The libs are bundled from their sources, so
 * the console parses every answer with the same zod schemas as the coordinator writes them with.
 */
export default defineConfig({
  root: here('.'),
  base: '/console/',
  publicDir: false,
  logLevel: 'warn',
  resolve: {
    alias: [
      { find: '#api', replacement: here('../../libs/api/src/index.ts') },
      { find: '#protocol', replacement: here('../../libs/protocol/src/index.ts') },
      { find: '#sdk', replacement: here('../../libs/sdk/src/index.ts') },
    ],
  },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: here('../../dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    // Everything in files: the CSP allows no inline script or style, nor data: URLs.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
    rollupOptions: {
      // zod's sources carry comments Rollup cannot place (harmless): keep the build's output to real news.
      onwarn(warning, warn) {
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
});
