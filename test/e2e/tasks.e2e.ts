import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { connect, jwtAuthenticator } from 'nats';
import WebSocket from 'ws';

import type { ErrorBody, TaskLogsPage, TaskView } from '@waggle/contracts';
import { MachineSubjects } from '@waggle/contracts';
import { request } from '@waggle/messaging';
import type { AgentProcess } from '@waggle/testing';
import { eventually, runCli, TestHub } from '@waggle/testing';

const node = process.execPath;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('tasks: placed, claimed once, executed, logged, reported', () => {
  let hub: TestHub;
  let worker: AgentProcess;
  let plain: AgentProcess;
  /** The task whose first attempt was lost when its agent was killed. */
  let survivorId: string;

  before(async () => {
    hub = await TestHub.start({ leaseSeconds: 3 });
    worker = await hub.startAgent('worker', { allowCommand: true, allowShell: true, labels: ['room=lab'], slots: 2 });
    plain = await hub.startAgent('plain', { labels: ['room=office'] });
  });
  after(() => hub.stop());

  const create = (body: object) => hub.api<TaskView & ErrorBody>('POST', '/api/tasks', body);
  const finished = (id: string, timeoutMs = 30_000) =>
    eventually(
      async () => {
        const res = await hub.api<TaskView>('GET', `/api/tasks/${id}`);
        assert.ok(
          ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(res.body.state),
          `state ${res.body.state}`,
        );
        return res.body;
      },
      { timeoutMs, what: `task ${id} finished` },
    );

  it('runs a command with arguments (no shell), keeps its logs and its structured result', async () => {
    const script =
      "console.log('hello', process.argv[1]); console.error('warn'); require('fs').writeFileSync(process.env.WAGGLE_RESULT_FILE, JSON.stringify({ answer: 42 }))";
    const res = await create({
      title: 'say hello',
      kind: 'command',
      input: { program: node, args: ['-e', script, '$(whoami); rm -rf /'] },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const task = await finished(res.body.id);
    assert.equal(task.state, 'succeeded');
    assert.equal(task.machine?.name, 'worker');
    assert.equal(task.result?.exitCode, 0);
    assert.match(task.result.outputTail, /hello \$\(whoami\); rm -rf \//, 'the argument arrived literally');
    assert.deepEqual(task.result?.structured, { answer: 42 });
    assert.equal(task.attempts.length, 1);
    assert.equal(task.attempts[0]?.state, 'succeeded');
    const logs = await eventually(async () => {
      const page = await hub.api<TaskLogsPage>('GET', `/api/tasks/${task.id}/logs`);
      assert.ok(page.body.items.some((c) => c.stream === 'stderr' && c.data.includes('warn')));
      return page.body;
    });
    assert.ok(logs.items.some((c) => c.stream === 'stdout' && c.data.includes('hello')));
  });

  it('runs a shell script only where shell was allowed, and refuses what no machine may run', async () => {
    const ok = await create({ title: 'shell', kind: 'shell', input: { script: 'echo "from sh $((6 * 7))"' } });
    assert.equal(ok.status, 201);
    const task = await finished(ok.body.id);
    assert.equal(task.machine?.name, 'worker');
    assert.match(task.result!.outputTail, /from sh 42/);

    const targeted = await create({ title: 'no', kind: 'shell', input: { script: 'true' }, target: 'plain' });
    assert.equal(targeted.status, 400);
    assert.match(targeted.body.message, /plain cannot run this task: does not run shell tasks/);
    const nowhere = await create({
      title: 'no',
      kind: 'command',
      input: { program: 'true' },
      requires: { labels: ['room=office'] },
    });
    assert.equal(nowhere.status, 400);
    assert.match(nowhere.body.message, /no machine can ever run this task/);
    const wrongInput = await create({ title: 'no', kind: 'command', input: { script: 'true' } });
    assert.equal(wrongInput.status, 400);
    assert.deepEqual((wrongInput.body.details as { fields: { field: string }[] }).fields.map((f) => f.field).sort(), [
      'input.program',
      'input.script',
    ]);
  });

  it('from the CLI: create, follow the logs to the end, list', async () => {
    const env = { WAGGLE_TOKEN: hub.adminToken, WAGGLE_HUB_URL: hub.url };
    const created = await runCli(
      [
        'tasks',
        'create',
        '--title',
        'count',
        '--kind',
        'command',
        '--program',
        node,
        '--arg',
        '-e',
        '--arg',
        'for (let i = 1; i <= 3; i++) console.log(`line ${i}`)',
        '--json',
      ],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const id = (JSON.parse(created.stdout) as TaskView).id;
    // The short id the list prints is enough, as in git and docker.
    const short = id.slice(0, 8);
    const logs = await runCli(['tasks', 'logs', short, '--follow'], env);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, 'line 1\nline 2\nline 3\n');
    assert.match(logs.stderr, /task succeeded \(exit 0\)/);
    const list = await runCli(['tasks', 'list', '--state', 'succeeded'], env);
    assert.match(list.stdout, /succeeded\s+│\s+worker/);
    assert.match(list.stdout, new RegExp(`${short}\\s+│\\s+succeeded`));
    const got = await runCli(['tasks', 'get', short, '--json'], env);
    assert.equal(got.code, 0, got.stderr);
    assert.equal((JSON.parse(got.stdout) as TaskView).id, id);
    const bad = await runCli(['tasks', 'get', 'not-an-id'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /400 INVALID_INPUT: task id must be a UUID or its first characters/);
    const chunks = await runCli(['tasks', 'logs', short, '--json'], env);
    assert.deepEqual(
      chunks.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { stream: string; data: string }).data)
        .join(''),
      'line 1\nline 2\nline 3\n',
    );
    const why = await runCli(['tasks', 'why', short, '--json'], env);
    assert.deepEqual(JSON.parse(why.stdout), { id, state: 'succeeded', waiting: null, retryAt: null });

    // A cancel says what it did: a running task is being stopped, not yet cancelled.
    const sleeper = await runCli(
      [
        'tasks',
        'create',
        '--title',
        'sleeper',
        '--kind',
        'command',
        '--program',
        'sleep',
        '--arg',
        '60',
        '--target',
        'worker',
        '--json',
      ],
      env,
    );
    const sleeperId = (JSON.parse(sleeper.stdout) as TaskView).id;
    await eventually(async () =>
      assert.equal((await hub.api<TaskView>('GET', `/api/tasks/${sleeperId}`)).body.state, 'running'),
    );
    const cancel = await runCli(['tasks', 'cancel', sleeperId.slice(0, 8)], env);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(
      cancel.stdout,
      /^stopping: \S+ {2}running on worker {2}attempt 1\/3 {2}sleeper\n {2}its processes get SIGINT now/,
    );
    assert.equal((await finished(sleeperId)).state, 'cancelled');
  });

  it("streams a running task's output live over /ws", async () => {
    const res = await create({
      title: 'ticks',
      kind: 'command',
      input: {
        program: node,
        args: [
          '-e',
          "let i = 0; const t = setInterval(() => { console.log('tick ' + ++i); if (i === 5) clearInterval(t); }, 300)",
        ],
      },
    });
    const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/ws`, {
      headers: { authorization: `Bearer ${hub.adminToken}` },
    });
    const lines: string[] = [];
    ws.on('message', (raw: Buffer) => {
      const msg = JSON.parse(raw.toString('utf8')) as { type: string; chunk?: { data: string } };
      if (msg.type === 'ready') {
        ws.send(JSON.stringify({ type: 'follow-logs', taskId: res.body.id }));
      }
      if (msg.type === 'log') {
        lines.push(msg.chunk!.data);
      }
    });
    try {
      await eventually(() => assert.match(lines.join(''), /tick 5/), { what: 'live output' });
      assert.ok(lines.length >= 2, 'arrived in several chunks, as it was printed');
    } finally {
      ws.close();
    }
  });

  it('says why a task waits: each machine and the reason it was passed over', async () => {
    const blocker = await create({
      title: 'hold slot 1',
      kind: 'command',
      input: { program: node, args: ['-e', 'setTimeout(() => {}, 60000)'] },
      requires: { labels: ['room=lab'] },
    });
    const blocker2 = await create({
      title: 'hold slot 2',
      kind: 'command',
      input: { program: node, args: ['-e', 'setTimeout(() => {}, 60000)'] },
      requires: { labels: ['room=lab'] },
    });
    const waiting = await create({ title: 'waits', kind: 'command', input: { program: 'true' } });
    const why = await eventually(async () => {
      const res = await hub.api<TaskView>('GET', `/api/tasks/${waiting.body.id}`);
      assert.equal(res.body.state, 'queued');
      assert.ok(res.body.waiting);
      return res.body.waiting;
    });
    const byName = Object.fromEntries(why.candidates.map((c) => [c.name, c.reasons.join('; ')]));
    assert.match(byName.worker ?? '', /no free slot \(2\/2 in use\)/);
    assert.match(byName.plain ?? '', /does not run command tasks/);
    const whyCli = await runCli(['tasks', 'why', waiting.body.id], {
      WAGGLE_TOKEN: hub.adminToken,
      WAGGLE_HUB_URL: hub.url,
    });
    assert.match(whyCli.stdout, /worker\s+│\s+no free slot/);
    for (const t of [blocker, blocker2]) {
      assert.equal((await hub.api('POST', `/api/tasks/${t.body.id}/cancel`)).status, 200);
    }
    assert.equal((await finished(waiting.body.id)).state, 'succeeded');
  });

  it('cancel stops the process group; timeout too', async () => {
    const pidFile = join(worker.stateDir, 'cancel.pid');
    const long = await create({
      title: 'long',
      kind: 'command',
      input: {
        program: node,
        args: [
          '-e',
          `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => console.log('tick'), 100)`,
        ],
      },
    });
    const pid = await eventually(async () => Number(await readFile(pidFile, 'utf8')));
    assert.ok(alive(pid));
    assert.equal((await hub.api('POST', `/api/tasks/${long.body.id}/cancel`)).status, 200);
    const cancelled = await finished(long.body.id);
    assert.equal(cancelled.state, 'cancelled');
    assert.equal(alive(pid), false, 'process is gone');

    const slow = await create({
      title: 'slow',
      kind: 'command',
      input: { program: node, args: ['-e', 'setTimeout(() => {}, 60000)'] },
      timeoutSeconds: 1,
    });
    const timedOut = await finished(slow.body.id);
    assert.equal(timedOut.state, 'timed_out');
    assert.match(timedOut.result!.error!, /timed out after 1 s/);
    assert.equal(
      (await hub.api('POST', `/api/tasks/${slow.body.id}/cancel`)).status,
      409,
      'a finished task cannot be cancelled',
    );
    const retried = await hub.api<TaskView>('POST', `/api/tasks/${slow.body.id}/retry`);
    assert.equal(retried.body.state, 'queued');
    assert.equal((await hub.api('POST', `/api/tasks/${slow.body.id}/cancel`)).status, 200);
  });

  it('a retry policy: a listed exit code is tried again after its backoff; another failure is final', async () => {
    const marker = join(worker.stateDir, 'flaky-ran-once');
    // Exits 75 (EX_TEMPFAIL) the first time, 0 the next.
    const flakyScript = `const fs = require('fs'); if (fs.existsSync(${JSON.stringify(marker)})) process.exit(0); fs.writeFileSync(${JSON.stringify(marker)}, '1'); process.exit(75);`;
    const retry = { exitCodes: [75], backoffSeconds: 1 };
    const flaky = await create({
      title: 'flaky',
      kind: 'command',
      input: { program: node, args: ['-e', flakyScript] },
      target: 'worker',
      retry,
    });
    assert.equal(flaky.status, 201, JSON.stringify(flaky.body));
    const done = await finished(flaky.body.id);
    assert.equal(done.state, 'succeeded');
    assert.deepEqual(
      done.attempts.map((a) => [a.state, a.result?.exitCode]),
      [
        ['failed', 75],
        ['succeeded', 0],
      ],
    );
    const waited = Date.parse(done.attempts[1]!.assignedAt) - Date.parse(done.attempts[0]!.endedAt!);
    assert.ok(waited >= 1000, `the second attempt waited out the backoff (${waited} ms)`);
    assert.deepEqual(done.retry, { on: [], exitCodes: [75], backoffSeconds: 1 });

    const broken = await create({
      title: 'broken',
      kind: 'command',
      input: { program: node, args: ['-e', 'process.exit(3)'] },
      target: 'worker',
      retry,
    });
    const failed = await finished(broken.body.id);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.attempts.length, 1, 'exit 3 is not in the policy');
    const shown = await runCli(['tasks', 'get', broken.body.id], {
      WAGGLE_TOKEN: hub.adminToken,
      WAGGLE_HUB_URL: hub.url,
    });
    assert.match(shown.stdout, /failed on worker {2}attempt 1\/3/);
    assert.match(shown.stdout, /retries: on lost, exit 75, up to 3 attempts, after 1 s doubling each time/);

    const bad = await create({ title: 'x', kind: 'command', input: { program: node }, retry: { on: ['sometimes'] } });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /retry\.on/);
  });

  it('a graceful stop: what ends within the grace is reported, the rest handed back, the machine offline at once', async () => {
    const leaver = await hub.startAgent('leaver', {
      allowCommand: true,
      slots: 2,
      env: { WAGGLE_AGENT_STOP_GRACE_SECONDS: '4' },
    });
    const run = (title: string, seconds: number) =>
      create({ title, kind: 'command', input: { program: 'sleep', args: [String(seconds)] }, target: 'leaver' });
    const [short, long] = [await run('ends within the grace', 1), await run('outlasts the grace', 600)];
    for (const task of [short, long]) {
      await eventually(async () =>
        assert.equal((await hub.api<TaskView>('GET', `/api/tasks/${task.body.id}`)).body.state, 'running'),
      );
    }
    await leaver.kill('SIGTERM');
    // The agent heard back on each of these before it exited: no waiting on the hub's clocks.
    assert.match(leaver.text(), /"released":true/, 'the hub took the attempt back');
    assert.match(leaver.text(), /said goodbye: offline/);
    const machine = await hub.api<{ status: string }>('GET', '/api/machines/leaver');
    assert.equal(machine.body.status, 'offline', 'offline at once, not after three missed heartbeats');
    const ended = await hub.api<TaskView>('GET', `/api/tasks/${short.body.id}`);
    assert.equal(ended.body.state, 'succeeded');
    const handedBack = await hub.api<TaskView>('GET', `/api/tasks/${long.body.id}`);
    // Queued again at once (and, targeted, assigned again to wait for its machine).
    assert.ok(['queued', 'assigned'].includes(handedBack.body.state), handedBack.body.state);
    assert.equal(handedBack.body.attempts[0]?.state, 'lost');
    assert.equal((await hub.api('POST', `/api/tasks/${long.body.id}/cancel`)).status, 200);
  });

  it('a targeted task for an offline machine waits and runs when it returns', async () => {
    await plain.kill('SIGKILL');
    const res = await create({ title: 'for plain', kind: 'agent', input: { prompt: 'x' }, target: 'plain' });
    // plain has no agent CLI: targeting checks what the machine has.
    assert.equal(res.status, 400);
    const marker = join(worker.stateDir, 'targeted.txt');
    await worker.kill('SIGKILL');
    const targeted = await create({
      title: 'for worker',
      kind: 'command',
      input: { program: node, args: ['-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`] },
      target: 'worker',
    });
    assert.equal(targeted.status, 201);
    const waiting = await hub.api<TaskView>('GET', `/api/tasks/${targeted.body.id}`);
    assert.ok(['queued', 'assigned'].includes(waiting.body.state));
    worker.start();
    plain.start();
    const done = await finished(targeted.body.id);
    assert.equal(done.state, 'succeeded');
    assert.equal(await readFile(marker, 'utf8'), 'ran');
  });

  it('an agent killed mid-task: the lease expires and the task completes on a retry, once', async () => {
    await hub.waitOnline('worker');
    const counter = join(worker.stateDir, 'runs.txt');
    const res = await create({
      title: 'survives',
      kind: 'command',
      input: {
        program: node,
        args: [
          '-e',
          `const fs = require('fs'); fs.appendFileSync(${JSON.stringify(counter)}, 'x'); if (fs.readFileSync(${JSON.stringify(counter)}, 'utf8').length === 1) setTimeout(() => {}, 60000)`,
        ],
      },
      requires: { labels: ['room=lab'] },
    });
    await eventually(async () => assert.equal(await readFile(counter, 'utf8'), 'x'));
    await worker.kill('SIGKILL');
    worker.start();
    const done = await finished(res.body.id, 60_000);
    assert.equal(done.state, 'succeeded');
    assert.deepEqual(
      done.attempts.map((a) => a.state),
      ['lost', 'succeeded'],
    );
    assert.equal(done.attempt, 2);
    survivorId = done.id;
  });

  it("refuses a zombie attempt's late renewal, claim and result after a retry won", async () => {
    const identity = (await worker.identity())!;
    const nc = await connect({
      servers: hub.nats.url,
      authenticator: jwtAuthenticator(identity.natsJwt, new TextEncoder().encode(identity.natsSeed)),
      inboxPrefix: MachineSubjects.replyPrefix(identity.machineId),
    });
    try {
      // Attempt 1 of the survivor was lost; attempt 2 succeeded. A zombie of attempt 1 comes back:
      const zombie = { v: 1, taskId: survivorId, attempt: 1 };
      await assert.rejects(request(nc, MachineSubjects.taskRenew(identity.machineId), zombie), /not current/);
      await assert.rejects(request(nc, MachineSubjects.taskClaim(identity.machineId), zombie), /not current/);
      await assert.rejects(
        request(nc, MachineSubjects.taskResult(identity.machineId), {
          ...zombie,
          outcome: 'failed',
          exitCode: 1,
          durationMs: 1,
          outputTail: 'late',
        }),
        /not current/,
      );
      // Even a repeat of the winning attempt's result changes nothing.
      await assert.rejects(
        request(nc, MachineSubjects.taskResult(identity.machineId), {
          ...zombie,
          attempt: 2,
          outcome: 'failed',
          exitCode: 1,
          durationMs: 1,
          outputTail: 'twice',
        }),
        /not current/,
      );
      const after = await hub.api<TaskView>('GET', `/api/tasks/${survivorId}`);
      assert.equal(after.body.state, 'succeeded', 'the recorded result stands');
      assert.equal(after.body.result?.exitCode, 0);
      assert.deepEqual(
        after.body.attempts.map((a) => a.state),
        ['lost', 'succeeded'],
      );
    } finally {
      await nc.close();
    }
  });
});
