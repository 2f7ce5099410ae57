import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { ErrorBody, TaskView } from '@waggle/contracts';
import type { AgentProcess } from '@waggle/testing';
import { eventually, TestHub } from '@waggle/testing';

/** Alive: it exists and is not a zombie. */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** Processes whose parent is `parent` and whose command line contains `text`. */
async function childrenOf(parent: number, text: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) {
      continue;
    }
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (ppid === parent && cmdline.includes(text)) {
      found.push(Number(name));
    }
  }
  return found;
}

/** A shell line starting a process that appends its own pid to `file`, then sleeps `seconds`. */
const sleeper = (file: string, seconds: number) => `sh -c 'echo $$ >> "${file}"; exec sleep ${seconds}'`;

/** Every way a process leaves its task's process group, or its output. */
const detachedSleepers = (file: string) =>
  [
    `${sleeper(file, 600)} >/dev/null 2>&1 &`,
    `nohup ${sleeper(file, 600)} >/dev/null 2>&1 &`,
    `setsid ${sleeper(file, 600)} &`,
    `(setsid ${sleeper(file, 600)} &)`,
  ].join('\n');
const DETACHED = 4;

/**
 * A task whose first attempt starts detached processes (their pids in `pids`) and then
 * sleeps; a later attempt reports which of those still run, and succeeds.
 */
const twoAttemptScript = (dir: string) => {
  const pids = join(dir, 'pids');
  return [
    `if [ -e "${dir}/first" ]; then`,
    `  for pid in $(cat "${pids}"); do`,
    // One read of its state: a process that ends between two reads is not "still running".
    `    state=$(sed -n 's/^State:[[:space:]]*//p' /proc/$pid/status 2>/dev/null)`,
    `    case "$state" in ''|Z*) ;; *) echo "still running: $pid" ;; esac`,
    '  done',
    '  echo "second attempt"',
    '  exit 0',
    'fi',
    `touch "${dir}/first"`,
    detachedSleepers(pids),
    `echo $$ >> "${pids}"`,
    'exec sleep 600',
  ].join('\n');
};

describe('task processes: none outlives its task or its agent', () => {
  let hub: TestHub;
  let solo: AgentProcess;
  const pidFiles: string[] = [];
  let runs = 0;

  before(async () => {
    hub = await TestHub.start({ leaseSeconds: 3 });
    solo = await hub.startAgent('solo', { allowShell: true, labels: ['pool=solo'] });
  });
  after(async () => {
    // Whatever a failed test left running does not outlive the suite.
    for (const file of pidFiles) {
      for (const pid of await pids(file)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    await hub.stop();
  });

  const create = (body: object) => hub.api<TaskView & ErrorBody>('POST', '/api/tasks', body);
  const task = async (id: string) => (await hub.api<TaskView>('GET', `/api/tasks/${id}`)).body;
  const finished = (id: string, timeoutMs = 30_000) =>
    eventually(
      async () => {
        const view = await task(id);
        assert.ok(['succeeded', 'failed', 'cancelled', 'timed_out'].includes(view.state), `state ${view.state}`);
        return view;
      },
      { timeoutMs, what: `task ${id} finished` },
    );
  /** A fresh directory name for one task's files (the task's shell creates nothing else there). */
  const runDir = () => join(hub.dir, `run-${++runs}`);
  async function pids(file: string): Promise<number[]> {
    return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
  }
  const written = (file: string, count: number) => {
    pidFiles.push(file);
    return eventually(
      async () => {
        const found = await pids(file);
        assert.ok(found.length >= count, `${found.length} of ${count} pids`);
        return found;
      },
      { what: `${count} pids in ${file}` },
    );
  };
  const allGone = (list: number[], what: string, timeoutMs?: number) =>
    eventually(
      async () => {
        const running = (await Promise.all(list.map(async (pid) => ((await alive(pid)) ? pid : 0)))).filter(Boolean);
        assert.deepEqual(running, [], 'still running');
      },
      { what, timeoutMs },
    );

  it('cancel and timeout stop every process the task started, however it detached', async () => {
    for (const stop of ['cancel', 'timeout'] as const) {
      const dir = runDir();
      const script = `mkdir -p "${dir}"\n${detachedSleepers(join(dir, 'pids'))}\nexec sleep 600`;
      const res = await create({
        title: `detached, ${stop}`,
        kind: 'shell',
        input: { script },
        target: 'solo',
        ...(stop === 'timeout' ? { timeoutSeconds: 3 } : {}),
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const started = await written(join(dir, 'pids'), DETACHED);
      for (const pid of started) {
        assert.ok(await alive(pid), `${pid} runs`);
      }
      if (stop === 'cancel') {
        assert.equal((await hub.api('POST', `/api/tasks/${res.body.id}/cancel`)).status, 200);
      }
      // The setsid process holds the task's stdout: the task must not wait for it.
      const done = await finished(res.body.id, 20_000);
      assert.equal(done.state, stop === 'cancel' ? 'cancelled' : 'timed_out');
      await allGone(started, `every process of the ${stop}led task gone`, 2_000);
    }
  });

  it('a task ends when its main process ends, and what it left running is stopped', async () => {
    const dir = runDir();
    const file = join(dir, 'pids');
    // The sleep writes its pid before the task goes on to its end.
    const script = `mkdir -p "${dir}"\nsetsid ${sleeper(file, 40)} &\nwhile [ ! -s "${file}" ]; do sleep 0.01; done\necho done`;
    const res = await create({
      title: 'setsid sleep 40 & echo done',
      kind: 'shell',
      input: { script },
      target: 'solo',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const done = await finished(res.body.id, 20_000);
    assert.equal(done.state, 'succeeded');
    assert.ok(done.result!.durationMs < 10_000, `took ${done.result!.durationMs} ms, not the sleep's 40 s`);
    assert.match(done.result!.outputTail, /done/);
    const [left] = await written(file, 1);
    assert.equal(await alive(left!), false, 'the detached sleep was stopped when the task ended');
  });

  it("an agent killed with SIGKILL takes its task's processes with it; the retry elsewhere never overlaps", async () => {
    const left = await hub.startAgent('left', { allowShell: true, labels: ['pool=pair'] });
    const right = await hub.startAgent('right', { allowShell: true, labels: ['pool=pair'] });
    const dir = runDir();
    const res = await create({
      title: 'first attempt detaches',
      kind: 'shell',
      input: { script: `mkdir -p "${dir}"\n${twoAttemptScript(dir)}` },
      requires: { labels: ['pool=pair'] },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const started = await written(join(dir, 'pids'), DETACHED + 1);
    const first = (await task(res.body.id)).machine?.name;
    const [victim, survivor] = first === 'left' ? [left, right] : [right, left];
    assert.ok(first === 'left' || first === 'right', `ran on ${first}`);

    await victim.kill('SIGKILL');
    // With the agent still dead: nothing restarted it. (The second attempt's report below shows it was in time.)
    await allGone(started, 'the killed agent’s task processes gone', 10_000);
    const done = await finished(res.body.id, 30_000);
    assert.equal(done.state, 'succeeded');
    assert.deepEqual(
      done.attempts.map((a) => a.state),
      ['lost', 'succeeded'],
    );
    assert.equal(done.machine?.name, survivor.name.replace('agent:', ''));
    assert.match(done.result!.outputTail, /second attempt/);
    assert.doesNotMatch(done.result!.outputTail, /still running/, 'the second attempt saw none of the first running');
    await survivor.kill('SIGKILL');
  });

  it('a restarted agent kills what its earlier run left before it runs anything', async () => {
    const dir = runDir();
    const res = await create({
      title: 'left behind',
      kind: 'shell',
      input: { script: `mkdir -p "${dir}"\n${twoAttemptScript(dir)}` },
      target: 'solo',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const started = await written(join(dir, 'pids'), DETACHED + 1);
    // The task helper (the agent's watchdog) dies with the agent (as under an OOM kill of both): it cannot stop them.
    const [watchdog] = await childrenOf(solo.pid!, 'waggle-task-helper');
    assert.ok(watchdog, "the agent's task helper runs");
    process.kill(watchdog, 'SIGSTOP');
    await solo.kill('SIGKILL');
    process.kill(watchdog, 'SIGKILL');
    for (const pid of started) {
      assert.ok(await alive(pid), `${pid} outlived its agent and its watchdog`);
    }

    solo.start();
    await allGone(started, 'the earlier run’s task processes gone after the restart', 10_000);
    // Logged once the kill loop is done, a moment after the processes are gone.
    await eventually(() => assert.match(solo.text(), /killed task processes left by an earlier run of this agent/), {
      what: 'the restarted agent to say what it killed',
    });
    const done = await finished(res.body.id, 30_000);
    assert.equal(done.state, 'succeeded');
    assert.deepEqual(
      done.attempts.map((a) => a.state),
      ['lost', 'succeeded'],
    );
    assert.match(done.result!.outputTail, /second attempt/);
    assert.doesNotMatch(done.result!.outputTail, /still running/, 'the second attempt saw none of the first running');
  });

  it('the task helper killed under a task: another starts, the attempt is swept and retried once its lease expires', async () => {
    const dir = runDir();
    const res = await create({
      title: 'its helper dies',
      kind: 'shell',
      input: { script: `mkdir -p "${dir}"\n${twoAttemptScript(dir)}` },
      target: 'solo',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const started = await written(join(dir, 'pids'), DETACHED + 1);
    const [helper] = await childrenOf(solo.pid!, 'waggle-task-helper');
    assert.ok(helper, "the agent's task helper runs");
    process.kill(helper, 'SIGKILL');

    await allGone(started, 'the attempt’s processes swept once the helper died', 10_000);
    const done = await finished(res.body.id, 30_000);
    assert.equal(done.state, 'succeeded');
    assert.deepEqual(
      done.attempts.map((a) => a.state),
      ['lost', 'succeeded'],
    );
    assert.match(done.result!.outputTail, /second attempt/);
    assert.doesNotMatch(done.result!.outputTail, /still running/, 'the second attempt saw none of the first running');
    const [next] = await childrenOf(solo.pid!, 'waggle-task-helper');
    assert.ok(next && next !== helper, 'another helper runs');
  });
});
