import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built entry points (this file runs from dist/libs/harness/src). */
// From sources (tests) the built files are under <repo>/dist; from dist they are siblings.
const built = (path: string): string => {
  const here = fileURLToPath(import.meta.url);
  const base = here.includes(`${sep}dist${sep}`) ? new URL('../../../', import.meta.url) : new URL('../../../dist/', import.meta.url);
  return fileURLToPath(new URL(path, base));
};
export const COORDINATOR_MAIN = built('apps/coordinator/src/main.js');
export const SIGNER_MAIN = built('apps/signer/src/main.js');
export const ADMIN_MAIN = built('apps/admin/src/main.js');

export interface Child {
  name: string;
  process: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

/** Starts a node process; keeps the last lines of its output for when something goes wrong. */
export function startProcess(name: string, script: string, args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Child {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name, process: child, output, exited };
}

/** Runs a command to completion and returns its stdout; throws with its output on failure. */
export async function runToEnd(name: string, script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${stderr || stdout}`);
  return stdout;
}

/** Stops a process with SIGTERM, then SIGKILL if it does not exit in time. */
export async function stopProcess(child: Child, graceMs = 10_000): Promise<number | null> {
  if (child.process.exitCode !== null) return child.process.exitCode;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < until) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
}
