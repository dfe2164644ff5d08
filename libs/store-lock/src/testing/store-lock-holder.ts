import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Another OS process holding a store's lock (tests only: it runs hold-store-lock.ts from source with vite-node). */
export interface StoreLockHolder {
  pid: number;
  /** Stops it (SIGTERM: it releases the lock on exit) and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills it with SIGKILL, leaving its lock behind, and waits for it to exit. */
  kill(): Promise<void>;
}

const repo = (path: string) => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));

/** Starts a process that takes the lock of `dir` and holds it; resolves once it holds it. */
export async function holdStoreLockInChild(dir: string): Promise<StoreLockHolder> {
  const child = spawn(process.execPath, [repo('node_modules/vite-node/vite-node.mjs'), repo('libs/store-lock/src/testing/hold-store-lock.ts'), dir], {
    cwd: repo('.'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const pid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the lock holder did not start: ${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^locked (\d+)$/m.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the lock holder exited: ${output}`));
    });
  });
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { pid, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}
