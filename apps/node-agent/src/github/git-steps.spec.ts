import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { childEnvironment } from '@waggle/config';
import type { GithubStep } from '@waggle/contracts';

import type { WorkContext } from '../task-work';
import { gitEnv, GitSteps } from './git-steps';
import { gitAuthEnv } from './github-issue-work';
import { StepError } from './step-error';

const git = async (cwd: string, ...args: string[]) => (await promisify(execFile)('git', args, { cwd })).stdout.trim();

function context(cwd: string, signal = new AbortController().signal) {
  const logs: string[] = [];
  const ctx: WorkContext = {
    cwd,
    env: { PATH: childEnvironment().PATH, HOME: cwd, GIT_DIR: '/nowhere', EDITOR: 'vi', LANG: 'C' },
    exec: () => Promise.reject(new Error('not here')),
    output: (stream, text) => logs.push(`${stream}:${text}`),
    note: () => undefined,
    signal,
    stopped: () => signal.aborted,
  };
  return { ctx, logs };
}

describe('gitEnv', () => {
  it("drops the variables simple-git guards from the task's environment and adds the step's own", () => {
    const env = gitEnv(
      {
        PATH: '/bin',
        GIT_DIR: '/x',
        git_ssh_command: 'evil',
        EDITOR: 'vi',
        Pager: 'less',
        HOME: '/h',
        UNSET: undefined,
      },
      { GIT_TERMINAL_PROMPT: '0' },
    );
    assert.deepEqual(env, { PATH: '/bin', HOME: '/h', GIT_TERMINAL_PROMPT: '0' });
  });
});

describe('GitSteps (simple-git) against a real repository', () => {
  let dir: string;
  let bare: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-git-steps-'));
    bare = join(dir, 'remote.git');
    const seed = join(dir, 'seed');
    await git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
    await git(dir, 'init', '--quiet', '--initial-branch=main', seed);
    await writeFile(join(seed, 'README.md'), '# hi\n');
    await git(seed, 'add', '.');
    await git(seed, '-c', 'user.name=Seed', '-c', 'user.email=seed@example.test', 'commit', '--quiet', '-m', 'seed');
    await git(seed, 'push', '--quiet', bare, 'main');
  });

  after(async () => {
    if (dir) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('clones with the token as GIT_CONFIG_* (accepted by simple-git), commits as the machine, force-pushes and verifies', async () => {
    const work = await mkdtemp(join(dir, 'attempt-'));
    const { ctx, logs } = context(work);
    const steps: GithubStep[] = [];
    const gitSteps = new GitSteps(ctx, (s) => steps.push(s));
    const tree = join(work, 'tree');
    // The header is configured for another host than the remote's: what matters is that simple-git lets it through.
    const auth = gitAuthEnv('https://github.example.test/acme/widgets.git', 'ghp_secret');
    await gitSteps.clone(`file://${bare}`, tree, 'main', auth);
    await gitSteps.checkoutFresh(tree, 'waggle/1-x', 'origin/main');
    await writeFile(join(tree, 'CHANGES.md'), '- done\n');
    await gitSteps.stageAll(tree);
    assert.equal(await gitSteps.hasChanges(tree), true);
    assert.equal(await gitSteps.commitsAhead(tree, 'origin/main'), 0);
    await gitSteps.commit(tree, 'Fix #1: x\n\nbody', { name: 'Soda Yeti', email: 'soda@example.test' });
    const sha = await gitSteps.head(tree);
    await gitSteps.forcePush(tree, `file://${bare}`, 'waggle/1-x', auth);
    assert.equal(await gitSteps.remoteSha(tree, `file://${bare}`, 'waggle/1-x', auth), sha);

    assert.equal(await git(bare, 'log', '-1', '--format=%an <%ae>', 'waggle/1-x'), 'Soda Yeti <soda@example.test>');
    assert.deepEqual(
      steps.map((s) => [s.step, s.exitCode]),
      ['clone', 'branch', 'stage', 'status', 'count', 'commit', 'head', 'push', 'verify'].map((s) => [s, 0]),
    );
    assert.ok(steps[0], 'the clone step is recorded');
    assert.match(steps[0].command, /^git clone .*--branch main .*file:\/\//);
    const text = JSON.stringify({ steps, logs });
    assert.ok(
      !text.includes('ghp_secret') && !text.includes(Buffer.from('x-access-token:ghp_secret').toString('base64')),
      'token not in argv or logs',
    );
  });

  it('records a failing step with its exit code, and a stopped attempt runs no git', async () => {
    const work = await mkdtemp(join(dir, 'attempt-'));
    const { ctx, logs } = context(work);
    const steps: GithubStep[] = [];
    await assert.rejects(
      new GitSteps(ctx, (s) => steps.push(s)).clone(`file://${dir}/missing.git`, join(work, 'tree'), 'main', {}),
      (error: unknown) => {
        assert.ok(error instanceof StepError);
        assert.equal(error.step, 'clone');
        assert.equal(error.exitCode, 128);
        assert.equal(error.message, 'git clone exited with 128');
        return true;
      },
    );
    assert.equal(steps[0]?.exitCode, 128);
    assert.ok(
      logs.some((l) => l.startsWith('stderr:')),
      "git's complaint is in the logs",
    );

    const stopped = context(work, AbortSignal.abort()).ctx;
    await assert.rejects(
      new GitSteps(stopped, () => undefined).clone(`file://${bare}`, join(work, 'tree2'), 'main', {}),
      /git clone exited with a signal/,
    );
  });
});
