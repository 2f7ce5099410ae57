import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { Page, TaskView } from '@waggle/contracts';
import { eventually, TestHub } from '@waggle/testing';

const TASKS = 1000;

/** Two task-router replicas at once never hand one task out twice. */
describe('two task-routers, one thousand tasks', () => {
  let hub: TestHub;

  before(async () => {
    hub = await TestHub.start({ taskRouters: 2, leaseSeconds: 10 });
    await Promise.all(
      ['ant-1', 'ant-2', 'ant-3'].map((name) => hub.startAgent(name, { allowCommand: true, slots: 4 })),
    );
  });
  after(() => hub.stop());

  it('runs every task exactly once', async () => {
    const ledger = join(hub.dir, 'ledger.txt');
    const ids: string[] = [];
    const queue = Array.from({ length: TASKS }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          // Each run appends its task id and attempt to one ledger (O_APPEND lines are atomic).
          const res = await hub.api<TaskView>('POST', '/api/tasks', {
            title: `no-op ${i}`,
            kind: 'command',
            input: { program: 'sh', args: ['-c', `echo "$WAGGLE_TASK_ID $WAGGLE_TASK_ATTEMPT" >> '${ledger}'`] },
          });
          assert.equal(res.status, 201);
          ids.push(res.body.id);
        }
      }),
    );
    await eventually(
      async () => {
        const page = await hub.api<Page<TaskView>>('GET', '/api/tasks?state=succeeded&limit=1');
        assert.equal(page.status, 200);
        const lines = (await readFile(ledger, 'utf8')).trim().split('\n');
        assert.equal(lines.length, TASKS, `${lines.length} runs so far`);
      },
      { timeoutMs: 240_000, intervalMs: 500, what: 'all tasks run' },
    );
    const lines = (await readFile(ledger, 'utf8')).trim().split('\n');
    const runs = lines.map((l) => l.split(' ')[0]);
    const twice = runs.filter((id, i) => runs.indexOf(id) !== i);
    assert.deepEqual(
      lines.filter((l) => twice.includes(l.split(' ')[0])),
      [],
      'no task ran twice',
    );
    assert.deepEqual([...new Set(runs)].sort(), [...ids].sort());

    const seen: TaskView[] = [];
    let cursor: string | undefined;
    do {
      const page = await hub.api<Page<TaskView>>('GET', `/api/tasks?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    await eventually(async () => {
      const states = new Set(
        (await hub.api<Page<TaskView>>('GET', '/api/tasks?state=running&limit=1')).body.items.map((t) => t.state),
      );
      assert.equal(states.size, 0);
    });
    assert.equal(seen.length, TASKS);
    assert.ok(
      seen.every((t) => t.attempts.length === 1),
      'every task was assigned once',
    );
    const machines = new Set(seen.map((t) => t.machine?.name));
    assert.equal(machines.size, 3, 'the work was spread over the three machines');
  });
});
