import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { childEnvironment } from '@waggle/config';
import type { MachineView, Page, TaskLogsPage, TaskView } from '@waggle/contracts';
import { createDatabase, dropDatabase, freePort, HUB_SERVICES, programPath } from '@waggle/local-infra';
import { eventually, runCli, spawnCli, testDatabaseServer } from '@waggle/testing';

/** Whether any process of the group `pgid` is still there. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `waggle up` (what `npm start` runs after its build) as a newcomer meets it: in a clone of
 * the repository, with its state in ./.waggle of that clone, the README's first task example
 * run on this one machine.
 */
describe('waggle up on one machine, as the README says', () => {
  const server = testDatabaseServer();
  const database = `waggle_up_${process.pid}`;
  let clone: string;
  let cache: string;
  let up: ChildProcess;
  let output = '';
  let hubUrl: string;
  let token: string;

  before(async () => {
    clone = await mkdtemp(join(tmpdir(), 'waggle-clone-'));
    execFileSync('git', ['init', '-q', clone]);
    cache = await mkdtemp(join(tmpdir(), 'waggle-cache-'));
    const port = await freePort();
    hubUrl = `http://127.0.0.1:${port}`;
    up = spawn(process.execPath, [programPath('cli'), 'up', '--agent-allow-command', '--agent-label', 'room=lab'], {
      cwd: clone,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnvironment({
        WAGGLE_HOME: join(clone, '.waggle'),
        WAGGLE_DATABASE_URL: await createDatabase(server, database),
        WAGGLE_PORT: String(port),
        WAGGLE_NATS_PORT: String(await freePort()),
        WAGGLE_NATS_URL: undefined,
        WAGGLE_ADMIN_TOKEN: undefined,
        WAGGLE_TOKEN: undefined,
        WAGGLE_HUB_URL: undefined,
        XDG_CACHE_HOME: cache,
      }),
    });
    const keep = (chunk: Buffer) => (output += chunk.toString('utf8'));
    up.stdout!.on('data', keep);
    up.stderr!.on('data', keep);
    token = await eventually(
      () => {
        assert.equal(up.exitCode, null, `waggle up exited: ${output.slice(-3000)}`);
        const found = /Waggle hub is up[\s\S]*\n\s+(wgl_adm_\S+)/.exec(output);
        assert.ok(found, 'no banner with the admin token yet');
        return found[1]!;
      },
      { timeoutMs: 120_000, intervalMs: 200, what: 'the banner' },
    );
  });

  after(async () => {
    if (up?.pid && groupAlive(up.pid)) {
      process.kill(-up.pid, 'SIGKILL');
    }
    await dropDatabase(server, database).catch(() => undefined);
    await rm(clone, { recursive: true, force: true });
    await rm(cache, { recursive: true, force: true });
  });

  const env = () => ({ WAGGLE_TOKEN: token, WAGGLE_HUB_URL: hubUrl });
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(new URL(path, hubUrl), { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, path);
    return (await res.json()) as T;
  };

  it('says one line per service as it comes up, and keeps their logs in files for waggle logs', async () => {
    for (const service of ['registry', 'task-router', 'llm-failover', 'github-bot', 'gateway']) {
      assert.match(output, new RegExp(`\\[waggle\\] ${service} +up \\(\\d+\\.\\d s\\)`), service);
    }
    assert.doesNotMatch(output, /"level":|"msg":|InstanceLoader/, 'no service log line in the terminal');
    // The admin token comes last, where it is seen.
    assert.match(output.trimEnd(), /export WAGGLE_TOKEN=wgl_adm_\S+$/);
    // /ready asked every service of the hub over NATS before the banner was printed.
    const ready = (await (await fetch(`${hubUrl}/ready`)).json()) as { checks: Record<string, boolean> };
    const services = Object.keys(ready.checks).filter((k) => k.startsWith('service:'));
    assert.deepEqual(
      services.sort(),
      HUB_SERVICES.filter((s) => s !== 'gateway')
        .map((s) => `service:${s}`)
        .sort(),
    );
    assert.ok(Object.values(ready.checks).every(Boolean), JSON.stringify(ready.checks));
    const logs = await runCli(['logs', 'registry', '-n', '50'], { WAGGLE_HOME: join(clone, '.waggle') });
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /registry: registry ready/);
    assert.doesNotMatch(logs.stdout, /gateway: /, 'only the service asked for');
    const unknown = await runCli(['logs', 'nope'], { WAGGLE_HOME: join(clone, '.waggle') });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown service "nope"/);
  });

  it("starts this machine's agent with the options given to waggle up", async () => {
    const machine = await eventually(async () => {
      const [m] = (await api<Page<MachineView>>('/api/machines')).items;
      assert.equal(m?.status, 'online');
      return m;
    });
    assert.deepEqual(machine.labels, ['room=lab']);
  });

  it("runs the README's first task on this machine, in a work folder outside the clone", async () => {
    // Followed as it is written: the agent's log says the task started.
    const following = spawnCli(['logs', 'node-agent', '-f', '-n', '0'], { WAGGLE_HOME: join(clone, '.waggle') });
    let followed = '';
    following.stdout.on('data', (c: Buffer) => (followed += c.toString()));
    const created = await runCli(
      [
        'tasks',
        'create',
        '--title',
        'run tests',
        '--kind',
        'command',
        '--program',
        'npm',
        '--arg',
        'test',
        '--label',
        'room=lab',
        '--json',
      ],
      env(),
    );
    assert.equal(created.code, 0, created.stderr);
    const id = (JSON.parse(created.stdout) as TaskView).id;
    const task = await eventually(
      async () => {
        const t = await api<TaskView>(`/api/tasks/${id}`);
        assert.ok(['succeeded', 'failed'].includes(t.state), t.state);
        return t;
      },
      { timeoutMs: 60_000, what: 'the task ran' },
    );
    // A fresh work folder holds no package.json: npm says where it looked. Inside the clone
    // it would have found Waggle's own and run Waggle's tests.
    const logs = (await api<TaskLogsPage>(`/api/tasks/${id}/logs`)).items.map((c) => c.data).join('');
    const [local] = (await api<Page<MachineView>>('/api/machines')).items;
    assert.equal(task.attempts[0]?.machineName, local?.name, 'run by the agent waggle up started');
    assert.match(logs, new RegExp(`${cache.replaceAll('/', '\\/')}\\/waggle\\/work\\/`), logs);
    assert.doesNotMatch(logs, new RegExp(clone.replaceAll('/', '\\/')));
    await eventually(() => assert.match(followed, /node-agent: task started/), { what: 'waggle logs -f' });
    const stopped = new Promise((done) => following.once('exit', done));
    following.kill('SIGINT');
    await stopped;
  });

  it('stops everything it started on SIGTERM, the agent offline first', async () => {
    const exited = new Promise<number | null>((resolve) => up.once('exit', (code) => resolve(code)));
    up.kill('SIGTERM');
    assert.equal(await exited, 0, output.slice(-3000));
    assert.match(await readFile(join(clone, '.waggle', 'logs', 'node-agent.log'), 'utf8'), /said goodbye: offline/);
    await eventually(() => assert.equal(groupAlive(up.pid!), false, 'a process of waggle up is still running'), {
      timeoutMs: 30_000,
      what: 'every process of waggle up gone',
    });
  });
});
