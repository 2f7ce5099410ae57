import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { Logger } from '@waggle/observability';

import { KEEP_UNTIL_FILE } from './task-runner';

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
