import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { childEnvironment } from '@waggle/config';

import type { ProcessGroupOptions } from './process-group';
import { ProcessGroup } from './process-group';
import { killMarked, markedBy } from './process-marks';

const run = promisify(execFile);
/** Each program of this spec gets a mark of its own, below one for the run. */
const runMark = `spec-${randomBytes(4).toString('hex')}`;
let programs = 0;
const nextMark = () => `${runMark}/${++programs}`;

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
    mark: nextMark(),
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

/** A shell command for a process that appends its own pid to $PIDS and then sleeps. */
const SLEEPER = `sh -c 'echo $$ >> "$PIDS"; exec sleep 30'`;

describe('ProcessGroup', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-process-group-'));
  });
  after(async () => {
    // Nothing this spec started is left behind, whatever failed.
    await killMarked(markedBy(runMark));
    await rm(dir, { recursive: true, force: true });
  });

  /** The pids a script wrote to its $PIDS file, once there are `count`. */
  async function pidsIn(file: string, count: number): Promise<number[]> {
    let pids: number[] = [];
    await until(async () => {
      pids = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
      return pids.length >= count;
    }, `${count} pids in ${file}`);
    return pids;
  }

  it('stops what left the group on cancel: setsid, nohup, redirected output, a double fork', async () => {
    const cancel = new AbortController();
    const PIDS = join(dir, 'left.pids');
    const script = [
      `${SLEEPER} >/dev/null 2>&1 &`,
      `nohup ${SLEEPER} >/dev/null 2>&1 &`,
      `setsid ${SLEEPER} &`,
      `(setsid ${SLEEPER} &)`,
      'exec sleep 30',
    ].join('\n');
    const done = ProcessGroup.run(['sh', '-c', script], {
      cwd: dir,
      env: { PATH: childEnvironment().PATH, PIDS },
      graceMs: 400,
      mark: nextMark(),
      signal: cancel.signal,
    });
    const pids = await pidsIn(PIDS, 4);
    for (const pid of pids) {
      assert.ok(await alive(pid), `${pid} runs`);
    }
    cancel.abort();
    assert.equal((await done).exitCode, null);
    await until(async () => (await Promise.all(pids.map(alive))).every((a) => !a), 'every process to be gone', 2_000);
  });

  it('ends when its program ends, though a detached child holds its output; the child is stopped', async () => {
    const PIDS = join(dir, 'holder.pids');
    const started = Date.now();
    const result = await ProcessGroup.run(
      ['sh', '-c', `setsid ${SLEEPER} & while [ ! -s "$PIDS" ]; do sleep 0.01; done; echo done`],
      {
        cwd: dir,
        env: { PATH: childEnvironment().PATH, PIDS },
        graceMs: 400,
        mark: nextMark(),
        signal: new AbortController().signal,
      },
    );
    assert.deepEqual(result, { exitCode: 0, stdout: 'done\n' });
    assert.ok(Date.now() - started < 10_000, 'did not wait for the 30 s sleep holding stdout');
    const [holder] = await pidsIn(PIDS, 1);
    await until(async () => !(await alive(holder!)), 'the detached child to be gone', 2_000);
  });

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
      mark: nextMark(),
    });
    assert.deepEqual(result, { exitCode: 3, stdout: 'hello\n' });
    assert.deepEqual(chunks.sort(), ['stderr:oops\n', 'stdout:hello\n']);
  });

  it('says when a program cannot start, and starts nothing once stopped', async () => {
    const options = { cwd: process.cwd(), env: { PATH: childEnvironment().PATH }, graceMs: 400, mark: nextMark() };
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
