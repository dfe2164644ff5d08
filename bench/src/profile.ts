import { resolve } from 'node:path';

/** BENCH_PROFILE=<dir>: the coordinator process writes a V8 CPU profile there when it stops. */
export const coordinatorProfileArgs = (): string[] =>
  process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_PROFILE)}`] : [];
