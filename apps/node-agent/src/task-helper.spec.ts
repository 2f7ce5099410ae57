import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { childEnvironment } from '@waggle/config';
import type { Logger } from '@waggle/observability';

import { killMarked, MARK_VARIABLE, markedBy } from './process-marks';
import { TaskHelper, TaskHelperLostError } from './task-helper';

const runMark = `spec-${randomBytes(4).toString('hex')}`;
const warnings: string[] = [];
const logger = {
  info: () => undefined,
  warn: (_fields: unknown, msg: string) => warnings.push(msg),
  error: () => undefined,
  debug: () => undefined,
} as unknown as Logger;
const env = { PATH: childEnvironment().PATH };

/** Alive: it exists and is not a zombie. */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function pidsIn(file: string, count: number): Promise<number[]> {
  let pids: number[] = [];
  await until(async () => {
    pids = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
    return pids.length >= count;
  }, `${count} pids in ${file}`);
  return pids;
}

/** A process that appends its pid to $PIDS, leaves its group and session, and sleeps. */
const DETACHED_SLEEPER = `setsid sh -c 'echo $$ >> "$PIDS"; exec sleep 30' &`;

describe('TaskHelper', () => {
  let dir: string;
  let helper: TaskHelper;
  const mark = `${runMark}/agent`;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-task-helper-'));
    helper = new TaskHelper({ mark, graceMs: 300, env, logger }).start();
  });
  after(async () => {
    helper.close();
    // Nothing this spec started is left behind, whatever failed.
    await killMarked(markedBy(runMark));
    await rm(dir, { recursive: true, force: true });
  });

  const options = (n: string) => ({
    cwd: dir,
    env,
    graceMs: 300,
    mark: `${mark}/task/${n}`,
    signal: new AbortController().signal,
  });

  it('runs a program in the helper, not in this process: output, stdout, exit code, stdin', async () => {
    const chunks: string[] = [];
    const result = await helper.run(['sh', '-s'], {
      ...options('io'),
      env: { ...env, GREETING: 'hello' },
      stdin: 'echo "$GREETING"; echo "parent $PPID"; echo oops >&2; exit 3',
      onOutput: (stream, data) => chunks.push(`${stream}:${data}`),
    });
    assert.equal(result.exitCode, 3);
    assert.match(result.stdout, /^hello\nparent (\d+)\n$/);
    assert.equal(Number(/parent (\d+)/.exec(result.stdout)![1]), helper.pid, "the helper is the program's parent");
    assert.ok(chunks.includes('stderr:oops\n'));
    await assert.rejects(
      helper.run(['waggle-no-such-program'], options('missing')),
      /cannot start waggle-no-such-program/,
    );
    assert.deepEqual(await helper.run(['sh', '-c', 'exit 0'], { ...options('aborted'), signal: AbortSignal.abort() }), {
      exitCode: null,
      stdout: '',
    });
    assert.equal(await helper.probe('sh', ['-c', 'echo probed >&2']), 'probed');
    assert.equal(await helper.probe('sh', ['-c', 'exit 1']), undefined);
    // Side by side: one that ends first does not stop the other.
    assert.deepEqual(
      await Promise.all([helper.probe('sh', ['-c', 'echo quick']), helper.probe('sh', ['-c', 'sleep 0.3; echo slow'])]),
      ['quick', 'slow'],
    );
    assert.equal(await helper.probe('sleep', ['5'], 200), undefined, 'out of time');
  });

  it('stops a program on abort, and what it left running when it ends', async () => {
    const PIDS = join(dir, 'stop.pids');
    const stop = new AbortController();
    const done = helper.run(['sh', '-c', `${DETACHED_SLEEPER}\nexec sleep 30`], {
      ...options('stop'),
      env: { ...env, PIDS },
      signal: stop.signal,
    });
    const [left] = await pidsIn(PIDS, 1);
    stop.abort();
    assert.equal((await done).exitCode, null);
    assert.equal(await alive(left!), false, 'the detached sleep was stopped with its program');
  });

  it('dies under a program: the run fails as lost, another helper starts, a sweep stops the orphan', async () => {
    const PIDS = join(dir, 'lost.pids');
    const taskMark = `${mark}/task/lost`;
    const first = helper.pid!;
    const done = helper.run(['sh', '-c', `${DETACHED_SLEEPER}\nexec sleep 30`], {
      ...options('lost'),
      mark: `${taskMark}/1`,
      env: { ...env, PIDS },
    });
    const [orphan] = await pidsIn(PIDS, 1);
    process.kill(first, 'SIGKILL');
    await assert.rejects(done, TaskHelperLostError);
    assert.ok(warnings.some((w) => /task helper ended while the agent runs/.test(w)));
    // Asked of the helper while none runs: waits for the next one.
    assert.equal(await helper.sweep(taskMark, 300), 2, 'the orphaned sleep and its program');
    assert.notEqual(helper.pid, first);
    assert.equal(await alive(orphan!), false);
    assert.equal((await helper.run(['sh', '-c', 'echo again'], options('again'))).stdout, 'again\n');
  });

  it("stops the agent's processes once the agent is SIGKILLed, and no one else's; then ends", async () => {
    const agentMark = `${runMark}/killed-agent`;
    const PIDS = join(dir, 'agent.pids');
    // A stand-in agent: starts its helper and, through it, a task that detaches.
    const script = join(dir, 'agent.js');
    await writeFile(
      script,
      `const { TaskHelper } = require(${JSON.stringify(join(__dirname, 'task-helper.js'))});
const logger = { info() {}, warn() {}, error() {}, debug() {} };
const helper = new TaskHelper({ mark: ${JSON.stringify(agentMark)}, graceMs: 300, env: { PATH: process.env.PATH }, logger }).start();
void helper.run(['sh', '-c', ${JSON.stringify(`${DETACHED_SLEEPER}\nexec sleep 30`)}], {
  cwd: ${JSON.stringify(dir)}, env: { PATH: process.env.PATH, PIDS: ${JSON.stringify(PIDS)} },
  mark: ${JSON.stringify(`${agentMark}/task/1/1`)}, graceMs: 300, signal: new AbortController().signal,
}).catch(() => undefined);
const report = setInterval(() => { if (helper.pid) { process.stdout.write(helper.pid + '\\n'); clearInterval(report); } }, 10);
setInterval(() => undefined, 1000);
`,
    );
    const agent = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    agent.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const bystander = spawn('sleep', ['30'], {
      env: { ...env, [MARK_VARIABLE]: `${runMark}/another-agent/task/1/1` },
      stdio: 'ignore',
    });
    try {
      const [left] = await pidsIn(PIDS, 1);
      await until(() => Promise.resolve(out.includes('\n')), 'the helper pid');
      const agentHelper = Number(out.trim());
      assert.ok((await alive(agentHelper)) && (await alive(left!)));
      agent.kill('SIGKILL');
      await until(async () => !(await alive(left!)), "the task's detached process to be stopped");
      await until(async () => !(await alive(agentHelper)), 'the helper to end after its work');
      assert.ok(await alive(bystander.pid!), "another agent's task process still runs");
    } finally {
      agent.kill('SIGKILL');
      bystander.kill('SIGKILL');
    }
  });
});
