import { readdirSync, statSync } from 'node:fs';
import { procStat, ticksToMs } from './common.js';

const LOCAL_HOSTS = new Set(['', 'localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * The CPU time (ms) of the PostgreSQL server behind `databaseUrl`, when it runs on this machine and its
 * processes are readable in /proc; null otherwise (a remote server, another PID namespace, not Linux).
 *
 * It sums utime+stime of every process named `postgres` owned by the same user as a postmaster (the
 * postmaster, its backends and background workers), plus the postmaster's cutime+cstime: the time of
 * children it has already reaped, so a backend that exits during a run still counts. Differences of two
 * readings are what a run cost the server; other clients of the same server in that time count too.
 */
export function postgresCpuMs(databaseUrl: string): number | null {
  let host: string;
  try {
    host = new URL(databaseUrl).hostname;
  } catch {
    return null;
  }
  if (!LOCAL_HOSTS.has(host)) return null;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const procs = new Map<number, { ppid: number; uid: number; fields: string[] }>();
  for (const name of entries) {
    const pid = Number(name);
    const stat = procStat(pid);
    if (stat?.comm !== 'postgres') continue;
    try {
      procs.set(pid, { ppid: Number(stat.fields[1]), uid: statSync(`/proc/${pid}`).uid, fields: stat.fields });
    } catch {
      // It exited between the two reads: its time is now in its parent's cutime.
    }
  }
  const postmasters = [...procs.entries()].filter(([, p]) => !procs.has(p.ppid));
  if (postmasters.length === 0) return null;
  const owners = new Set(postmasters.map(([, p]) => p.uid));
  let ticks = 0;
  for (const [, p] of procs) if (owners.has(p.uid)) ticks += Number(p.fields[11]) + Number(p.fields[12]);
  for (const [, p] of postmasters) ticks += Number(p.fields[13]) + Number(p.fields[14]);
  return ticksToMs(ticks);
}
