import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import { childEnvironment } from '@waggle/config';

import type { ProcessGroupOptions } from './process-group';
import { ProcessGroup } from './process-group';

const run = promisify(execFile);

/** Alive: it exists and is not a zombie waiting for a parent that never reaps it. */
async function alive(pid: number): Promise<boolean> {
  const { stdout } = await run('ps', ['-o', 'stat=', '-p', String(pid)]).catch(() => ({ stdout: '' }));
  return stdout.trim() !== '' && !stdout.trim().startsWith('Z');
}

/** Polls `check` until it holds (no bare sleeps in tests). */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts `script` under sh in a group; resolves the pids it printed (one a line) once it printed `count`. */
function startGroup(script: string, count: number, options: Partial<ProcessGroupOptions> & { signal: AbortSignal }) {
  let out = '';
  let printed: (pids: number[]) => void;
  const pids = new Promise<number[]>((resolve) => (printed = resolve));
  const done = ProcessGroup.run(['sh', '-c', script], {
    cwd: process.cwd(),
    env: { PATH: childEnvironment().PATH },
    graceMs: 400,
    ...options,
    onOutput: (stream, data) => {
      out += data;
      const lines = out.split('\n').filter(Boolean);
      if (lines.length >= count) {
        printed(lines.map(Number));
      }
    },
  });
  return { pids, done };
}

describe('ProcessGroup', () => {
  it('stops the whole group on cancel: the program and what it started in the background', async () => {
    const cancel = new AbortController();
    // `sleep 30 & sleep 30`, printing both pids first (the foreground one replaces the shell, so it leads the group).
    const { pids, done } = startGroup('echo $$; sleep 30 & echo $!; exec sleep 30', 2, { signal: cancel.signal });
    const [leader, background] = await pids;
    assert.ok(leader !== undefined && background !== undefined, 'both pids printed');
    assert.ok((await alive(leader)) && (await alive(background)), 'both sleeps run');
    cancel.abort();
    const result = await done;
    assert.equal(result.exitCode, null, 'ended by a signal');
    await until(async () => !(await alive(leader)) && !(await alive(background)), 'both sleeps to die');
  });

  it('kills a group that ignores SIGINT and SIGTERM after the grace period', async () => {
    const cancel = new AbortController();
    const { pids, done } = startGroup('trap "" INT TERM; echo $$; sleep 30 & echo $!; exec sleep 30', 2, {
      signal: cancel.signal,
    });
    const [leader, background] = await pids;
    assert.ok(leader !== undefined && background !== undefined, 'both pids printed');
    const stoppedAt = Date.now();
    cancel.abort();
    assert.equal((await done).exitCode, null);
    assert.ok(Date.now() - stoppedAt >= 350, 'only SIGKILL, at the end of the grace period, ended it');
    await until(async () => !(await alive(leader)) && !(await alive(background)), 'both sleeps to die');
  });

  it('streams output, returns stdout and the exit code, and feeds stdin', async () => {
    const chunks: string[] = [];
    const result = await ProcessGroup.run(['sh', '-s'], {
      cwd: process.cwd(),
      env: { PATH: childEnvironment().PATH, GREETING: 'hello' },
      stdin: 'echo "$GREETING"; echo oops >&2; exit 3',
      onOutput: (stream, data) => chunks.push(`${stream}:${data}`),
      signal: new AbortController().signal,
      graceMs: 400,
    });
    assert.deepEqual(result, { exitCode: 3, stdout: 'hello\n' });
    assert.deepEqual(chunks.sort(), ['stderr:oops\n', 'stdout:hello\n']);
  });

  it('says when a program cannot start, and starts nothing once stopped', async () => {
    const options = { cwd: process.cwd(), env: { PATH: childEnvironment().PATH }, graceMs: 400 };
    await assert.rejects(
      ProcessGroup.run(['waggle-no-such-program'], { ...options, signal: new AbortController().signal }),
      /cannot start waggle-no-such-program/,
    );
    assert.deepEqual(await ProcessGroup.run(['sh', '-c', 'exit 0'], { ...options, signal: AbortSignal.abort() }), {
      exitCode: null,
      stdout: '',
    });
  });
});
