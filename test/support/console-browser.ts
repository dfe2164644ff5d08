import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, which the console's browser tests and screenshots drive (headless). */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = (): boolean => existsSync(CHROMIUM);

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });

/**
 * Builds dist/console with Vite when it is missing (`npm run build` makes it too), so that the coordinator
 * started from the sources has a console to serve.
 */
export function ensureConsoleBuilt(root: string = process.cwd()): void {
  if (existsSync(join(root, 'dist', 'console', 'index.html'))) return;
  execFileSync(join(root, 'node_modules', '.bin', 'vite'), ['build', '--config', join(root, 'apps', 'console', 'vite.config.ts')], { cwd: root, stdio: 'inherit' });
}
