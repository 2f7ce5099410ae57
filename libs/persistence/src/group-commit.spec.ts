import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  it('sends the first item alone and groups the ones that arrive while it commits', async () => {
    const groups: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const commits = new GroupCommit<number, number>(
      async (items) => {
        groups.push(items);
        if (groups.length === 1) {
          await gate;
        }
        return items.map((n) => ({ ok: true, value: n * 10 }));
      },
      { maxInFlight: 1 },
    );
    const first = commits.submit(1);
    const rest = [2, 3, 4].map((n) => commits.submit(n));
    release();
    assert.deepEqual(await Promise.all([first, ...rest]), [10, 20, 30, 40]);
    assert.deepEqual(groups, [[1], [2, 3, 4]]);
  });

  it('fails only the item whose outcome is an error, and a whole group when the commit throws', async () => {
    const commits = new GroupCommit<number, number>((items) => {
      if (items.includes(99)) {
        return Promise.reject(new Error('database gone'));
      }
      return Promise.resolve(
        items.map((n) => (n < 0 ? { ok: false, error: new Error(`bad ${n}`) } : { ok: true, value: n })),
      );
    });
    const [good, bad] = await Promise.allSettled([commits.submit(5), commits.submit(-1)]);
    assert.deepEqual(good, { status: 'fulfilled', value: 5 });
    assert.equal(bad?.status, 'rejected');
    await assert.rejects(commits.submit(99), /database gone/);
    assert.equal(await commits.submit(7), 7, 'keeps serving after a failed group');
  });

  it('never puts more than maxBatch items in a group', async () => {
    const sizes: number[] = [];
    const commits = new GroupCommit<number, number>(
      async (items) => {
        sizes.push(items.length);
        await new Promise((resolve) => setImmediate(resolve));
        return items.map((n) => ({ ok: true, value: n }));
      },
      { maxBatch: 3, maxInFlight: 1 },
    );
    await Promise.all(Array.from({ length: 10 }, (_, i) => commits.submit(i)));
    assert.ok(Math.max(...sizes) <= 3, `group sizes ${sizes.join(',')}`);
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      10,
    );
  });
});
