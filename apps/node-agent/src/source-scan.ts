import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import type { RepoCheckout } from '@waggle/contracts';

/** Runs a program and gives its trimmed output, or undefined when it failed (the agent's probe). */
export type Probe = (program: string, args: string[], timeoutMs?: number) => Promise<string | undefined>;

/** How deep under a source folder repositories are looked for (`~/gitrepos/org/repo` is 2). */
const MAX_DEPTH = 2;
/** At most this many repositories per report. */
export const MAX_REPOS = 2000;
const SKIP = new Set(['node_modules', '.git', '.cache']);
const CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/g;

const isRepo = (dir: string) =>
  stat(join(dir, '.git')).then(
    () => true,
    () => false,
  );

/** The git repositories under the source folders: each folder itself, or its children down to MAX_DEPTH. */
export async function findRepos(sources: string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (found.length >= MAX_REPOS) {
      return;
    }
    if (await isRepo(dir)) {
      found.push(dir);
      return;
    }
    if (depth >= MAX_DEPTH) {
      return;
    }
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && !SKIP.has(entry.name) && !entry.name.startsWith('.')) {
        await walk(join(dir, entry.name), depth + 1);
      }
    }
  };
  for (const source of sources) {
    await walk(resolve(source), 0);
  }
  return found.slice(0, MAX_REPOS);
}

/** A remote URL without a credential in it (an https URL with a token stays on the machine). */
export function stripCredentials(remote: string): string {
  try {
    const url = new URL(remote);
    if (url.username || url.password) {
      url.username = '';
      url.password = '';
      return url.toString();
    }
  } catch {
    // scp-like (git@host:path) or a path
  }
  return remote;
}

/** Path, remote, branch, dirty or not, and the last commit of one repository (through `git -C`). */
export async function describeRepo(path: string, probe: Probe): Promise<RepoCheckout> {
  const git = (...args: string[]) => probe('git', ['-C', path, ...args], 10_000);
  const [remote, branch, status, log] = await Promise.all([
    git('config', '--get', 'remote.origin.url'),
    git('symbolic-ref', '--quiet', '--short', 'HEAD'),
    git('status', '--porcelain', '--untracked-files=normal'),
    git('log', '-1', '--format=%H%x1f%cI%x1f%s'),
  ]);
  const [sha, at, ...subject] = (log ?? '').split('\x1f');
  return {
    path,
    remote: remote ? stripCredentials(remote.replace(CONTROL, '')).slice(0, 1000) : null,
    branch: branch ? branch.slice(0, 300) : null,
    dirty: !!status,
    lastCommit:
      sha && /^[0-9a-f]{40,64}$/.test(sha) && at
        ? { sha, at, subject: subject.join('\x1f').replace(CONTROL, ' ').slice(0, 500) }
        : null,
  };
}

/** Every repository under the sources, described (a few at a time: git is cheap, but a Pi has few cores). */
export async function scanSources(sources: string[], probe: Probe): Promise<RepoCheckout[]> {
  const paths = await findRepos(sources);
  const out: RepoCheckout[] = [];
  for (let i = 0; i < paths.length; i += 4) {
    out.push(...(await Promise.all(paths.slice(i, i + 4).map((p) => describeRepo(p, probe)))));
  }
  return out;
}
