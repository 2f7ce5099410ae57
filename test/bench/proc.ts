import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's CPU times (100 on Linux almost everywhere). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export const MS_PER_TICK = 1000 / TICKS_PER_SECOND;

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z (a zombie: ended, not yet reaped), … */
  state: string;
  ppid: number;
  pgrp: number;
  /** user + system CPU of the process itself, in ms. */
  cpuMs: number;
  /** user + system CPU of its waited-for children (the tasks an agent spawned), in ms. */
  childrenCpuMs: number;
}

/** /proc/<pid>/stat, or undefined once the process is gone (or on a system without /proc). */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: the fields start after the last ')'.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  const num = (i: number) => Number(fields[i] ?? 0);
  // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
  return {
    pid,
    comm: text.slice(text.indexOf('(') + 1, close),
    state: fields[0] ?? '?',
    ppid: num(1),
    pgrp: num(2),
    cpuMs: (num(11) + num(12)) * MS_PER_TICK,
    childrenCpuMs: (num(13) + num(14)) * MS_PER_TICK,
  };
}

/** Resident set size in bytes (VmRSS), or undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The process's command line, arguments joined by spaces ('' once it is gone). */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

export function allStats(): ProcStat[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  return names
    .filter((n) => /^\d+$/.test(n))
    .map((n) => readStat(Number(n)))
    .filter((s): s is ProcStat => !!s);
}

/** `pid` and every process below it. */
export function processTree(pid: number): ProcStat[] {
  const stats = allStats();
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) {
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  }
  const root = stats.find((s) => s.pid === pid);
  const out: ProcStat[] = root ? [root] : [];
  for (let i = 0; i < out.length; i++) {
    out.push(...(children.get(out[i]!.pid) ?? []));
  }
  return out;
}

/**
 * The Postgres backends serving `database` on this machine: Postgres sets each backend's
 * title to `postgres: <cluster>: <user> <database> <client> <state>`.
 */
export function postgresBackends(database: string): number[] {
  return allStats()
    .filter((s) => s.comm === 'postgres' || s.comm.startsWith('postgres:'))
    .filter((s) => cmdline(s.pid).split(' ').includes(database))
    .map((s) => s.pid);
}

/** The first process on this machine whose command name is `comm` (redis-server), if any. */
export function findByComm(comm: string): number | undefined {
  return allStats().find((s) => s.comm === comm)?.pid;
}
