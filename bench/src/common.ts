import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** BENCH_PROFILE=<dir>: the coordinator process writes a V8 CPU profile there when it stops. */
export const coordinatorProfileArgs = (): string[] =>
  process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_PROFILE)}`] : [];

/** The p-th percentile of ascending `sorted` (nearest rank); NaN when empty. */
export const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** The fields of /proc/<pid>/stat after "pid (comm) " (comm may hold spaces); null when unreadable. */
export function procStat(pid: number): { comm: string; fields: string[] } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(') ');
    return { comm: text.slice(text.indexOf('(') + 1, close), fields: text.slice(close + 2).trim().split(' ') };
  } catch {
    return null;
  }
}

/** Clock ticks to ms: Linux reports /proc times in USER_HZ, 100 on every mainstream build. */
export const ticksToMs = (ticks: number): number => (ticks * 1000) / 100;

/** utime+stime of a process in ms, from /proc (Linux); null elsewhere. */
export function cpuMs(pid: number): number | null {
  const stat = procStat(pid);
  // After "pid (comm) ", utime and stime are the 12th and 13th fields.
  return stat ? ticksToMs(Number(stat.fields[11]) + Number(stat.fields[12])) : null;
}

/** The summed utime+stime of several processes; null when any of them is unreadable. */
export function cpuMsOf(pids: readonly number[]): number | null {
  let total = 0;
  for (const pid of pids) {
    const ms = cpuMs(pid);
    if (ms === null) return null;
    total += ms;
  }
  return total;
}

export function rssMb(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.replace(/\D+/g, '')) / 1024 : null;
  } catch {
    return null;
  }
}

export interface SessionStats {
  sessions: number;
  failed: number;
  seconds: number;
  /** Completed sessions per second of wall time. */
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
}

/**
 * Runs `sessions` sessions with `concurrency` of them in flight at any time; `signOne(n)` runs session n
 * and says whether it completed. Latency is counted for completed sessions only.
 */
export async function runSessions(concurrency: number, sessions: number, signOne: (n: number) => Promise<boolean>): Promise<SessionStats> {
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < sessions) {
        const n = next++;
        const t0 = performance.now();
        if (await signOne(n)) latencies.push(performance.now() - t0);
        else failed++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    sessions,
    failed,
    seconds,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
}

/** The whole machine's CPU time from /proc/stat's `cpu` line, in ticks: busy (not idle, not iowait) and total; null elsewhere. */
export function machineCpuTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
    if (!line) return null;
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const t = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const at = (i: number) => t[i] ?? 0;
    const busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
    return { busy, total: busy + at(3) + at(4) };
  } catch {
    return null;
  }
}
