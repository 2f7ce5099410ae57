import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { ErrorBody, Page, TaskLogsPage, TaskView } from '@waggle/contracts';
import { eventually, present, TestHub } from '@waggle/testing';

/** A machine's API credential reaches its own tasks and no one else's (as its NATS credential already does). */
describe("a machine's credential reaches only its own tasks", () => {
  let hub: TestHub;
  let alphaToken: string;
  let betaToken: string;
  let alphaTask: TaskView;

  before(async () => {
    hub = await TestHub.start();
    const alpha = await hub.startAgent('alpha', { allowShell: true });
    const beta = await hub.startAgent('beta', { allowShell: true });
    alphaToken = present(await alpha.identity(), 'alpha identity').apiToken;
    betaToken = present(await beta.identity(), 'beta identity').apiToken;
    const created = await hub.api<TaskView>('POST', '/api/tasks', {
      title: 'secret work',
      kind: 'shell',
      input: { script: 'echo alpha-only-output' },
      target: 'alpha',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    alphaTask = created.body;
    await eventually(async () => {
      const task = await hub.api<TaskView>('GET', `/api/tasks/${alphaTask.id}`);
      assert.equal(task.body.state, 'succeeded');
    });
  });

  after(() => hub.stop());

  it('lists, reads and follows the logs of its own task', async () => {
    const list = await hub.api<Page<TaskView>>('GET', '/api/tasks', undefined, alphaToken);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.items.map((t) => t.id),
      [alphaTask.id],
    );
    assert.equal((await hub.api('GET', `/api/tasks/${alphaTask.id}`, undefined, alphaToken)).status, 200);
    const logs = await hub.api<TaskLogsPage>('GET', `/api/tasks/${alphaTask.id}/logs`, undefined, alphaToken);
    assert.equal(logs.status, 200);
    assert.match(logs.body.items.map((c) => c.data).join(''), /alpha-only-output/);
  });

  it("sees nothing of another machine's task: not in the list, its page and logs are 404", async () => {
    const list = await hub.api<Page<TaskView>>('GET', '/api/tasks?limit=100', undefined, betaToken);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items, []);
    const filtered = await hub.api<Page<TaskView>>('GET', '/api/tasks?machine=alpha', undefined, betaToken);
    assert.deepEqual(filtered.body.items, []);
    const get = await hub.api<ErrorBody>('GET', `/api/tasks/${alphaTask.id}`, undefined, betaToken);
    assert.equal(get.status, 404);
    assert.doesNotMatch(JSON.stringify(get.body), /secret work|alpha-only-output/);
    const logs = await hub.api<ErrorBody>('GET', `/api/tasks/${alphaTask.id}/logs`, undefined, betaToken);
    assert.equal(logs.status, 404);
    assert.doesNotMatch(JSON.stringify(logs.body), /alpha-only-output/);
  });

  it('may not create a task, least of all a shell task on another machine', async () => {
    const shell = await hub.api<ErrorBody>(
      'POST',
      '/api/tasks',
      { title: 'pwn', kind: 'shell', input: { script: 'id' }, target: 'alpha' },
      betaToken,
    );
    assert.equal(shell.status, 403);
    assert.match(shell.body.message, /may not create tasks/);
    const all = await hub.api<Page<TaskView>>('GET', '/api/tasks?limit=100');
    assert.equal(all.body.items.filter((t) => t.title === 'pwn').length, 0, 'nothing was stored');
  });

  it('may not cancel or retry', async () => {
    assert.equal((await hub.api('POST', `/api/tasks/${alphaTask.id}/retry`, {}, betaToken)).status, 403);
    assert.equal((await hub.api('POST', `/api/tasks/${alphaTask.id}/cancel`, {}, alphaToken)).status, 403);
  });
});
