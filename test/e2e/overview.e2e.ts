import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { OverviewView, TaskView } from '@waggle/contracts';
import { eventually, FakeLlmProvider, TestHub } from '@waggle/testing';

/** GET /api/overview: the stats bar's figures, each asked of the service that owns it. */
describe('the overview counts the fleet from every service', () => {
  let hub: TestHub;
  let anthropic: FakeLlmProvider;
  let cookie: string;
  const node = process.execPath;

  before(async () => {
    anthropic = await FakeLlmProvider.start('anthropic');
    hub = await TestHub.start({
      llm: {
        env: {
          WAGGLE_LLM_CHAIN: 'anthropic',
          WAGGLE_LLM_ANTHROPIC_URL: anthropic.url,
          WAGGLE_LLM_ANTHROPIC_API_KEY: 'sk-ant-test',
        },
      },
      github: { env: {} },
    });
    await hub.startAgent('stats-worker', { allowCommand: true, slots: 2 });
    cookie = await hub.signIn(await hub.createUser('vic', 'viewer'));
  });
  after(async () => {
    await hub?.stop();
    await anthropic?.stop();
  });

  const overview = async () => {
    const res = await fetch(`${hub.url}/api/overview`, { headers: { cookie } });
    assert.equal(res.status, 200);
    return (await res.json()) as OverviewView;
  };
  const finished = (id: string) =>
    eventually(async () => {
      const task = (await hub.api<TaskView>('GET', `/api/tasks/${id}`)).body;
      assert.ok(['succeeded', 'failed'].includes(task.state), task.state);
    });

  it("answers a viewer with today's figures, and moves as work is done", async () => {
    const start = await overview();
    const today = new Date();
    assert.equal(
      start.since,
      new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())).toISOString(),
    );
    assert.deepEqual(start, {
      since: start.since,
      machinesOnline: 1,
      machinesTotal: 1,
      tasksQueued: 0,
      tasksRunning: 0,
      tasksDoneToday: 0,
      tasksFailedToday: 0,
      messagesToday: 0,
      llmSpendTodayUsd: 0,
      openGithubLinks: 0,
      unavailable: [],
    });

    for (const body of ['one', 'two']) {
      assert.equal((await hub.api('POST', '/api/messages', { to: 'stats-worker', body })).status, 201);
    }
    const ok = await hub.api<TaskView>('POST', '/api/tasks', {
      title: 'fine',
      kind: 'command',
      input: { program: node, args: ['-e', '1'] },
    });
    const bad = await hub.api<TaskView>('POST', '/api/tasks', {
      title: 'broken',
      kind: 'command',
      input: { program: node, args: ['-e', 'process.exit(3)'] },
      maxAttempts: 1,
    });
    await finished(ok.body.id);
    await finished(bad.body.id);
    const llm = await fetch(`${hub.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.adminToken}` },
      body: JSON.stringify({ model: 'default', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(llm.status, 200);

    // The fake answers 10 tokens in and 5 out; sonnet costs $3 in and $15 out per million.
    const after = await eventually(async () => {
      const now = await overview();
      assert.equal(now.messagesToday, 2);
      assert.equal(now.tasksDoneToday, 1);
      assert.equal(now.tasksFailedToday, 1);
      assert.ok(Math.abs((now.llmSpendTodayUsd ?? 0) - (10 * 3 + 5 * 15) / 1e6) < 1e-9, `${now.llmSpendTodayUsd}`);
      return now;
    });
    assert.deepEqual([after.machinesOnline, after.machinesTotal, after.tasksQueued, after.tasksRunning], [1, 1, 0, 0]);
  });

  it('still answers when a service is away, naming it and leaving its figures null', async () => {
    await hub.llmFailovers[0]!.kill();
    const partial = await eventually(async () => {
      const now = await overview();
      assert.deepEqual(now.unavailable, ['llm-failover']);
      return now;
    });
    assert.equal(partial.llmSpendTodayUsd, null);
    assert.equal(partial.machinesOnline, 1);
    assert.equal(partial.messagesToday, 2);
  });

  it('needs a credential', async () => {
    assert.equal((await fetch(`${hub.url}/api/overview`)).status, 401);
  });
});
