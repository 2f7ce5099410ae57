import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { InboxMessage } from '@waggle/contracts';

import { InboxStore } from './inbox-store';

const msg = (id: string): InboxMessage => ({
  v: 1,
  id,
  from: { kind: 'admin', name: 'admin' },
  to: 'm',
  body: `body ${id}`,
  sentAt: new Date().toISOString(),
});

describe('InboxStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'waggle-inbox-'));
  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps each id once, in send order, across reloads', async () => {
    const store = new InboxStore(dir);
    await store.load();
    assert.equal((await store.append([msg('2'), msg('10')])).length, 2);
    assert.equal((await store.append([msg('10'), msg('1')])).length, 1);
    const reloaded = new InboxStore(dir);
    await reloaded.load();
    assert.equal((await reloaded.append([msg('2')])).length, 0);
    assert.deepEqual(
      (await reloaded.list()).map((m) => m.id),
      ['1', '2', '10'],
    );
  });

  it('keeps an id in a batch once, and counts none of a batch whose write failed as stored', async () => {
    const failing = await mkdtemp(join(tmpdir(), 'waggle-inbox-fail-'));
    try {
      const store = new InboxStore(failing);
      await store.load();
      // A directory where the inbox file should be: the append fails (even as root).
      await mkdir(store.inboxPath);
      await assert.rejects(store.append([msg('6')]));
      await rmdir(store.inboxPath);
      assert.equal((await store.append([msg('5'), msg('5')])).length, 1);
      // The redelivery of the failed batch is stored, not skipped as a duplicate.
      assert.equal((await store.append([msg('6')])).length, 1);
      assert.deepEqual(
        (await store.list()).map((m) => m.id),
        ['5', '6'],
      );
    } finally {
      await rm(failing, { recursive: true, force: true });
    }
  });

  it('tracks read marks and which were reported', async () => {
    const store = new InboxStore(dir);
    await store.load();
    await store.markRead(['1', '10']);
    assert.deepEqual(
      (await store.list({ unread: true })).map((m) => m.id),
      ['2'],
    );
    const first = await store.unreportedReads();
    assert.deepEqual(first.ids, ['1', '10']);
    await store.markReported(first.offset);
    assert.deepEqual((await store.unreportedReads()).ids, []);
    await store.markRead(['2']);
    assert.deepEqual((await store.unreportedReads()).ids, ['2']);
  });
});
