import { open } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

import type { ProjectNotes } from '@waggle/contracts';
import { ErrorCode, WaggleError } from '@waggle/contracts';

import { findRepos } from './source-scan';
import type { Probe } from './source-scan';

const README_BYTES = 16 * 1024;
const MAX_TODOS = 300;
const README_NAMES = ['README.md', 'README', 'readme.md', 'README.rst', 'README.txt'];
const CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/g;

async function head(path: string, bytes: number): Promise<string | undefined> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) {
    return undefined;
  }
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await file.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await file.close();
  }
}

/**
 * What a checkout says about its work, for a plan: the README's beginning and every TODO
 * or FIXME (`git grep`, tracked text files only). Only for a repository under one of this
 * machine's source folders: the hub cannot make it read anything else.
 */
export async function readProjectNotes(path: string, sources: string[], probe: Probe): Promise<ProjectNotes> {
  const target = resolve(path);
  const inside = sources.map((s) => resolve(s)).some((s) => target === s || target.startsWith(s + sep));
  if (!inside || !(await findRepos([target])).includes(target)) {
    throw new WaggleError(ErrorCode.Forbidden, `${path} is not a repository under this machine's source folders`);
  }
  let readme: string | null = null;
  for (const name of README_NAMES) {
    const text = await head(join(target, name), README_BYTES);
    if (text !== undefined) {
      readme = text.replace(CONTROL, ' ');
      break;
    }
  }
  const grep = await probe('git', ['-C', target, 'grep', '-n', '-I', '-E', '(TODO|FIXME)', '--', '.'], 15_000);
  const todos = (grep ?? '')
    .split('\n')
    .filter(Boolean)
    .slice(0, MAX_TODOS)
    .map((line) => line.replace(CONTROL, ' ').slice(0, 300));
  return { readme, todos };
}
