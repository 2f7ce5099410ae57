import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import type { Logger } from '@waggle/observability';

import { KEEP_UNTIL_FILE } from './task-runner';

/** What marks a folder as a project checkout: work folders under one would be taken for part of it. */
const CHECKOUT_MARKERS = ['.git', 'package.json'];

/** The nearest folder at or above `dir` that is a checkout (holds .git or package.json), if any. */
export async function enclosingCheckout(dir: string): Promise<string | undefined> {
  for (let at = resolve(dir); ; at = dirname(at)) {
    for (const marker of CHECKOUT_MARKERS) {
      if (
        await stat(join(at, marker)).then(
          () => true,
          () => false,
        )
      ) {
        return at;
      }
    }
    if (dirname(at) === at) {
      return undefined;
    }
  }
}

/**
 * Where attempts get their working folders when WAGGLE_AGENT_WORK_DIR is not set:
 * `<state dir>/work`, unless the state folder sits inside a checkout (`npm start` keeps it
 * in ./.waggle of the Waggle clone). Work there would be taken for part of that project
 * (`npm test` as a task would find Waggle's package.json and run Waggle's tests), so it goes
 * to `~/.cache/waggle/work/<a hash of the state folder>` (XDG_CACHE_HOME if set) instead.
 */
export async function defaultWorkDir(stateDir: string, cacheHome = join(homedir(), '.cache')): Promise<string> {
  const inside = await enclosingCheckout(stateDir);
  if (!inside) {
    return join(resolve(stateDir), 'work');
  }
  const key = createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 12);
  return join(cacheHome, 'waggle', 'work', key);
}

/** Removes the kept working trees of failed attempts whose time is up, so disks do not fill up. */
export async function sweepKeptWorkDirs(workDir: string, logger: Logger, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  const entries = await readdir(workDir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory()) {
      continue;
    }
    const dir = join(workDir, entry.name);
    const until = Number(await readFile(join(dir, KEEP_UNTIL_FILE), 'utf8').catch(() => 'NaN'));
    if (!Number.isFinite(until) || until > now) {
      continue;
    }
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  if (removed.length) {
    logger.info({ removed: removed.length }, 'removed kept working trees of failed attempts');
  }
  return removed;
}
