import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ErrorCode, WaggleError } from '@waggle/contracts';

import { readProjectNotes } from './project-notes';
import type { Probe } from './source-scan';
import { findRepos, scanSources, stripCredentials } from './source-scan';

/** The probe the agent passes, without the helper: git run directly. */
const probe: Probe = (program, args) => {
  try {
    return Promise.resolve(execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
  } catch {
    return Promise.resolve(undefined);
  }
};

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.test', ...args], { cwd, encoding: 'utf8' });

describe('source scan', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-scan-'));
    for (const [path, remote] of [
      ['alpha', 'https://user:secret@github.com/acme/alpha.git'],
      ['org/beta', null],
      ['org/deeper/too-deep', null],
    ] as const) {
      const repo = join(dir, path);
      await mkdir(repo, { recursive: true });
      git(repo, 'init', '-q', '-b', 'trunk');
      await writeFile(join(repo, 'README.md'), '# hi\n');
      git(repo, 'add', '.');
      git(repo, 'commit', '-q', '-m', `first of ${path}`);
      if (remote) {
        git(repo, 'remote', 'add', 'origin', remote);
      }
    }
    await writeFile(join(dir, 'org/beta/new.txt'), 'untracked');
    await mkdir(join(dir, 'node_modules/x/.git'), { recursive: true });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds repositories down to two levels, skipping node_modules', async () => {
    assert.deepEqual(await findRepos([dir]), [join(dir, 'alpha'), join(dir, 'org/beta')]);
  });

  it('describes each: remote without its credential, branch, dirty, last commit', async () => {
    const [alpha, beta] = await scanSources([dir], probe);
    assert.equal(alpha?.remote, 'https://github.com/acme/alpha.git');
    assert.equal(alpha?.branch, 'trunk');
    assert.equal(alpha?.dirty, false);
    assert.equal(alpha?.lastCommit?.subject, 'first of alpha');
    assert.match(alpha?.lastCommit?.sha ?? '', /^[0-9a-f]{40}$/);
    assert.equal(beta?.remote, null);
    assert.equal(beta?.dirty, true);
  });

  it('leaves scp-like remotes alone', () => {
    assert.equal(stripCredentials('git@github.com:acme/api.git'), 'git@github.com:acme/api.git');
  });

  it("reads a checkout's notes only under the source folders", async () => {
    const notes = await readProjectNotes(join(dir, 'alpha'), [dir], probe);
    assert.equal(notes.readme, '# hi\n');
    await assert.rejects(
      readProjectNotes('/etc', [dir], probe),
      (e: unknown) => e instanceof WaggleError && e.code === ErrorCode.Forbidden,
    );
    await assert.rejects(readProjectNotes(join(dir, 'org'), [dir], probe), /not a repository/);
  });
});
