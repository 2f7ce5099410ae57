import { readdir, readFile } from 'node:fs/promises';

/**
 * The environment variable that marks every process a task starts. A process keeps its
 * environment however it detaches (setsid, double fork, nohup, redirected output), and its
 * children inherit it, so the marked processes are found under /proc even after they left
 * the task's process group.
 *
 * A mark is a path: `<machineId>/<agent life>` for one run of the agent, then
 * `/<taskId>/<attempt>` for an attempt, then `/<n>` for each program the attempt runs.
 */
export const MARK_VARIABLE = 'WAGGLE_TASK_MARK';

const MARK_PREFIX = `${MARK_VARIABLE}=`;
/** /proc entries read at once while scanning. */
const SCAN_CONCURRENCY = 32;
const POLL_MS = 50;
/** A bound on the kill loop: processes that fork faster than they are killed are not chased for ever. */
const MAX_KILL_PASSES = 200;

/** Which marks count: `owner` itself and every mark below it (`a/b` owns `a/b/1`, not `a/b1`). */
export type MarkFilter = (mark: string) => boolean;

export function markedBy(owner: string): MarkFilter {
  return (mark) => mark === owner || mark.startsWith(`${owner}/`);
}

/** The marks of this machine's earlier agent lives (not `current`). */
export function earlierLives(machineId: string, current: string): MarkFilter {
  const ofMachine = markedBy(machineId);
  const ofCurrent = markedBy(current);
  return (mark) => ofMachine(mark) && !ofCurrent(mark);
}

/**
 * The mark in a process's environment, or undefined: none, gone, a zombie (its environment
 * reads empty), or not ours to read. This is the environment the process was started
 * with; a process that cleared it (`env -i`) is not found.
 */
async function markOf(pid: number): Promise<string | undefined> {
  let environ: string;
  try {
    environ = await readFile(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return undefined;
  }
  for (const entry of environ.split('\0')) {
    if (entry.startsWith(MARK_PREFIX)) {
      return entry.slice(MARK_PREFIX.length);
    }
  }
  return undefined;
}

async function isMarked(pid: number, filter: MarkFilter): Promise<boolean> {
  const mark = await markOf(pid);
  return mark !== undefined && filter(mark);
}

/** Every live process (but this one) whose mark passes `filter`. Empty where there is no /proc. */
export async function findMarked(filter: MarkFilter): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const pids = entries.filter((name) => /^\d+$/.test(name)).map(Number);
  const found: number[] = [];
  for (let i = 0; i < pids.length; i += SCAN_CONCURRENCY) {
    const batch = pids.slice(i, i + SCAN_CONCURRENCY).filter((pid) => pid !== process.pid);
    const marked = await Promise.all(batch.map((pid) => isMarked(pid, filter)));
    found.push(...batch.filter((_, j) => marked[j]));
  }
  return found;
}

/** Sends `signal` to each pid; one that is already gone is skipped. */
export function signalEach(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already, or not ours
    }
  }
}

/** Sends `signal` to every process whose mark passes `filter`; resolves the pids it signalled. */
export async function signalMarked(filter: MarkFilter, signal: NodeJS.Signals): Promise<number[]> {
  const pids = await findMarked(filter);
  signalEach(pids, signal);
  return pids;
}

/**
 * SIGKILLs every marked process, again and again, until two scans in a row find none: a
 * process that forked just before it was killed leaves a child the next scan finds, and one
 * that forked and exited while a scan was reading leaves one for the scan after.
 * `cleanScans` says how many scans just before this one found none (a caller's own).
 * Resolves the pids it killed.
 */
export async function killMarked(filter: MarkFilter, cleanScans = 0): Promise<number[]> {
  const killed = new Set<number>();
  let clean = cleanScans;
  for (let pass = 0; pass < MAX_KILL_PASSES && clean < 2; pass++) {
    const pids = await findMarked(filter);
    if (!pids.length) {
      clean++;
      continue;
    }
    clean = 0;
    signalEach(pids, 'SIGKILL');
    pids.forEach((pid) => killed.add(pid));
    // A killed process keeps its environment until it has exited: let it.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return [...killed];
}

/**
 * Ends every marked process: SIGTERM, up to `graceMs` for them to go, then `killMarked`.
 * Resolves how many there were. When there are none, that takes two scans.
 */
export async function stopMarked(filter: MarkFilter, graceMs: number): Promise<number> {
  const terminated = await signalMarked(filter, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = terminated;
  while (left.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const marked = await Promise.all(left.map((pid) => isMarked(pid, filter)));
    left = left.filter((_, i) => marked[i]);
  }
  // The SIGTERM scan that found none is the first of the two clean scans.
  const killed = await killMarked(filter, terminated.length ? 0 : 1);
  return new Set([...terminated, ...killed]).size;
}
