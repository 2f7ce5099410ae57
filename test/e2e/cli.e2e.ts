import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { StoredMessage } from '@waggle/agent-state';
import type { CreatedJoinToken, MachineView } from '@waggle/contracts';
import type { AgentProcess } from '@waggle/testing';
import { eventually, runCli, spawnCli, TestHub } from '@waggle/testing';

/** The `waggle` command as a person and an agent session's hook use it. */
describe('the waggle CLI', () => {
  let hub: TestHub;
  let agent: AgentProcess;
  let admin: Record<string, string>;

  before(async () => {
    hub = await TestHub.start();
    agent = await hub.startAgent('soda-yeti', { labels: ['room=lab'] });
    admin = { WAGGLE_TOKEN: hub.adminToken, WAGGLE_HUB_URL: hub.url };
  });
  after(() => hub.stop());

  it('exits quietly when whatever reads its output goes away (`| head`)', async () => {
    const child = spawnCli(['machines', '--json'], admin);
    // The reading end is gone before the command writes: every write gets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Error/);
  });

  it('prints a join command with an address the new machine can reach', async () => {
    const printed = await runCli(['token', 'create'], { ...admin, WAGGLE_PUBLIC_URL: 'http://hub.example.test:3000' });
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /npx waggle agent --hub http:\/\/hub\.example\.test:3000 --join-token wgl_join_/);
    const guessed = await runCli(['token', 'create'], admin);
    assert.doesNotMatch(guessed.stdout, /--hub http:\/\/(127\.|localhost)/, 'never a loopback address');
  });

  it('machines --watch fetches again when the hub reports a change over /ws', async () => {
    const child = spawnCli(['machines', '--watch'], admin);
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const drawings = () => stdout.split(/\n(?=┌)/).filter((d) => d.includes('soda-yeti'));
    await eventually(() => assert.ok(drawings().length >= 1, stdout));
    const granted = await runCli(['machines', 'grant', 'soda-yeti', 'dispatch'], admin);
    assert.equal(granted.code, 0, granted.stderr);
    await eventually(() => assert.match(drawings().at(-1) ?? '', /soda-yeti[^\n]*dispatch/), {
      what: 'a drawing with the new permission',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.equal((await runCli(['machines', 'withdraw', 'soda-yeti', 'dispatch'], admin)).code, 0);
  });

  it('creates a join token and lists machines as JSON and as a table', async () => {
    const token = await runCli(['token', 'create', '--max-uses', '1', '--json'], admin);
    assert.equal(token.code, 0, token.stderr);
    assert.match((JSON.parse(token.stdout) as CreatedJoinToken).token, /^wgl_join_/);
    const json = await runCli(['machines', '--json', '--label', 'room=lab'], admin);
    assert.deepEqual(
      (JSON.parse(json.stdout) as MachineView[]).map((m) => m.name),
      ['soda-yeti'],
    );
    const table = await runCli(['machines'], admin);
    assert.match(table.stdout, /soda-yeti\s+│\s+online/);
  });

  it('sends as admin; the machine reads with the hook command once, then it is no longer unread', async () => {
    const sent = await runCli(['send', '--to', 'soda-yeti', 'rebase', 'on', 'main'], admin);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /queued for soda-yeti/);
    const onMachine = { WAGGLE_HOME: join(agent.stateDir, '..') };
    const stateDir = ['--state-dir', agent.stateDir];
    await eventually(async () => assert.ok((await agent.messages()).some((m) => m.body === 'rebase on main')));
    const hook = await runCli(['inbox', '--unread', '--mark-read', '--json', ...stateDir], onMachine);
    assert.equal(hook.code, 0, hook.stderr);
    assert.deepEqual(
      (JSON.parse(hook.stdout) as StoredMessage[]).map((m) => m.body),
      ['rebase on main'],
    );
    const again = await runCli(['inbox', '--unread', '--json', ...stateDir], onMachine);
    assert.deepEqual(JSON.parse(again.stdout), []);
    await eventually(async () => {
      const res = await hub.api<{ items: { recipients: { state: string }[] }[] }>(
        'GET',
        '/api/messages?machine=soda-yeti&limit=1',
      );
      assert.equal(res.body.items[0]?.recipients[0]?.state, 'read');
    });
  });

  it('a machine sends to the hub with its own credential: an explicit --state-dir wins over WAGGLE_TOKEN', async () => {
    const res = await runCli(['send', '--to', 'hub', 'task done', '--state-dir', agent.stateDir], admin);
    assert.equal(res.code, 0, res.stderr);
    const nobody = await runCli(
      ['send', '--to', 'hub', 'hello', '--state-dir', join(agent.stateDir, 'no-such')],
      admin,
    );
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no machine has joined with state dir .*no-such/);
    const history = await hub.api<{ items: { body: string; from: { kind: string; name: string } }[] }>(
      'GET',
      '/api/messages?limit=1',
    );
    assert.deepEqual(history.body.items[0]?.from, {
      kind: 'machine',
      machineId: (await agent.identity())!.machineId,
      name: 'soda-yeti',
    });
    // Read at the hub: the admin's inbox of what machines sent it.
    const inbox = await runCli(['inbox', '--hub'], admin);
    assert.equal(inbox.code, 0, inbox.stderr);
    assert.match(inbox.stdout, /#\d+ \S+ from soda-yeti\n {2}task done\n$/);
    const json = await runCli(['inbox', '--hub', '--json'], admin);
    assert.deepEqual(
      (JSON.parse(json.stdout) as { to: string; body: string }[]).map((m) => [m.to, m.body]),
      [['hub', 'task done']],
    );
  });

  it('inbox --follow prints messages as they arrive', async () => {
    const child = spawnCli(['inbox', '--follow', '--state-dir', agent.stateDir]);
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    try {
      await eventually(() => assert.match(stdout, /rebase on main/), { what: 'existing messages printed' });
      await hub.api('POST', '/api/messages', { to: 'soda-yeti', body: 'arrives while following' });
      await eventually(() => assert.match(stdout, /arrives while following/), { what: 'new message printed' });
    } finally {
      child.kill('SIGINT');
    }
  });

  it('says clearly what is wrong: bad input, and no credential', async () => {
    const bad = await runCli(['send', '--to', 'nobody-here', 'hi'], admin);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /404 NOT_FOUND: machine "nobody-here" not found/);
    const anonymous = await runCli(['machines'], { WAGGLE_HUB_URL: hub.url, WAGGLE_HOME: join(hub.dir, 'nowhere') });
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /401.*WAGGLE_TOKEN/s);
  });

  it('`waggle agent` becomes the node-agent: one process per machine, stopped by its signal', async () => {
    const stateDir = join(hub.dir, 'cli-agent');
    const child = spawnCli([
      'agent',
      '--hub',
      hub.url,
      '--join-token',
      await hub.joinToken(),
      '--name',
      'cli-lynx',
      '--state-dir',
      stateDir,
    ]);
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await hub.waitOnline('cli-lynx');
      // The pid the CLI started runs the node-agent program itself, with no child of its own running one.
      const runsAgent = async (pid: string | number) =>
        (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''))
          .split('\0')
          .some((a) => a.endsWith(join('node-agent', 'dist', 'main.js')));
      assert.ok(await runsAgent(child.pid!), 'the CLI process runs the node-agent');
      const children = (await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')).trim().split(/\s+/);
      for (const pid of children.filter(Boolean)) {
        assert.equal(await runsAgent(pid), false, `a second agent process: ${pid}`);
      }
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);
  });
});
