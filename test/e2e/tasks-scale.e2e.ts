import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { MachineView, Page, TaskView } from '@waggle/contracts';
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

  it('finds a task by a unique prefix of its id, and names the matches of an ambiguous one', async () => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await hub.api<Page<TaskView>>('GET', `/api/tasks?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...page.body.items.map((t) => t.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    const one = ids.find((id) => ids.filter((other) => other.startsWith(id.slice(0, 6))).length === 1)!;
    const found = await hub.api<TaskView>('GET', `/api/tasks/${one.slice(0, 6)}`);
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.equal(found.body.id, one);
    // 1000 ids over 256 two-character prefixes: some share one.
    const prefix = ids.map((id) => id.slice(0, 2)).find((p, i, all) => all.indexOf(p) !== i)!;
    const ambiguous = await hub.api<{ code: string; message: string; details: { matches: string[] } }>(
      'GET',
      `/api/tasks/${prefix}`,
    );
    assert.equal(ambiguous.status, 400);
    assert.match(ambiguous.body.message, new RegExp(`task id prefix "${prefix}" matches more than one task`));
    assert.ok(ambiguous.body.details.matches.length >= 2);
    assert.ok(ambiguous.body.details.matches.every((id) => id.startsWith(prefix)));
    const none = await hub.api('GET', '/api/tasks/0000-');
    assert.equal(none.status, 400, 'a prefix that could not start a UUID');
    const machines = (await hub.api<Page<MachineView>>('GET', '/api/machines')).body.items;
    const machine = await hub.api<MachineView>('GET', `/api/machines/${machines[0]!.id.slice(0, 8)}`);
    assert.equal(machine.body.name, machines[0]!.name, 'machines too');
  });
});
