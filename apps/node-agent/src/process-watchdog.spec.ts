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
import { ProcessWatchdog } from './process-watchdog';

const runMark = `spec-${randomBytes(4).toString('hex')}`;
const quietLogger = { warn: () => undefined, error: () => undefined } as unknown as Logger;

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

describe('ProcessWatchdog', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-watchdog-'));
  });
  after(async () => {
    await killMarked(markedBy(runMark));
    await rm(dir, { recursive: true, force: true });
  });

  it("stops the agent's task processes when the agent is SIGKILLed, and no one else's", async () => {
    const mark = `${runMark}/agent`;
    const pids = join(dir, 'task.pids');
    // A stand-in agent: starts its watchdog, then a task process that detaches from it.
    const agentScript = join(dir, 'agent.js');
    await writeFile(
      agentScript,
      `const { spawn } = require('node:child_process');
const { ProcessWatchdog } = require(${JSON.stringify(join(__dirname, 'process-watchdog.js'))});
const logger = { warn: () => undefined, error: () => undefined };
const watchdog = new ProcessWatchdog({ mark: ${JSON.stringify(mark)}, graceMs: 300, env: { PATH: process.env.PATH }, logger }).start();
spawn('sh', ['-c', 'setsid sh -c "echo \\\\$\\\\$ >> ${pids}; exec sleep 30" &'], {
  env: { PATH: process.env.PATH, ${MARK_VARIABLE}: ${JSON.stringify(`${mark}/task/1/1`)} },
  stdio: 'ignore',
});
process.stdout.write(watchdog.pid + '\\n');
setInterval(() => undefined, 1000);
`,
    );
    const agent = spawn(process.execPath, [agentScript], {
      env: { PATH: childEnvironment().PATH },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    agent.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // Another agent's task process on the same machine.
    const bystander = spawn('sleep', ['30'], {
      env: { PATH: childEnvironment().PATH, [MARK_VARIABLE]: `${runMark}/another-agent/task/1/1` },
      stdio: 'ignore',
    });
    try {
      let task = 0;
      await until(async () => {
        task = Number((await readFile(pids, 'utf8').catch(() => '')).trim());
        return task > 0 && out.includes('\n');
      }, 'the task process and the watchdog');
      const watchdog = Number(out.trim());
      assert.ok((await alive(task)) && (await alive(watchdog)));

      agent.kill('SIGKILL');
      await until(async () => !(await alive(task)), 'the task process to be stopped');
      await until(async () => !(await alive(watchdog)), 'the watchdog to end after its work');
      assert.ok(await alive(bystander.pid!), "another agent's task process still runs");
    } finally {
      agent.kill('SIGKILL');
      bystander.kill('SIGKILL');
    }
  });

  it('is started again when it dies while the agent lives, and acts when closed', async () => {
    const mark = `${runMark}/closing`;
    const watchdog = new ProcessWatchdog({
      mark,
      graceMs: 300,
      env: { PATH: childEnvironment().PATH },
      logger: quietLogger,
    }).start();
    const first = watchdog.pid!;
    process.kill(first, 'SIGKILL');
    await until(async () => watchdog.pid !== first && (await alive(watchdog.pid!)), 'a new watchdog');
    const second = watchdog.pid!;
    const task = spawn('sleep', ['30'], {
      env: { PATH: childEnvironment().PATH, [MARK_VARIABLE]: `${mark}/task/1/1` },
      detached: true,
      stdio: 'ignore',
    });
    try {
      watchdog.close();
      await until(async () => !(await alive(task.pid!)), 'the task process to be stopped');
      await until(async () => !(await alive(second)), 'the watchdog to end');
    } finally {
      task.kill('SIGKILL');
    }
  });
});
