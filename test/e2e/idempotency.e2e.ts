import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { ErrorBody, MessageView, Page, TaskView } from '@waggle/contracts';
import { newMachineKey } from '@waggle/credentials';
import { TestHub } from '@waggle/testing';

/** A client whose create timed out retries with the same Idempotency-Key: nothing is made twice. */
describe('Idempotency-Key on creates', () => {
  let hub: TestHub;

  before(async () => {
    hub = await TestHub.start();
    await hub.startAgent('soda-yeti', { allowShell: true });
  });

  after(() => hub.stop());

  const post = async <T>(path: string, body: unknown, key?: string, token = hub.adminToken) => {
    const res = await fetch(`${hub.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        ...(key === undefined ? {} : { 'idempotency-key': key }),
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  it('returns the first message for every retry with the same key, concurrent ones included', async () => {
    const body = { to: 'soda-yeti', body: 'exactly once, please' };
    const sends = await Promise.all(
      Array.from({ length: 8 }, () => post<MessageView>('/api/messages', body, 'msg-retry-1')),
    );
    for (const send of sends) {
      assert.equal(send.status, 201);
    }
    const ids = new Set(sends.map((s) => s.body.id));
    assert.equal(ids.size, 1, `ids: ${[...ids].join(', ')}`);
    const later = await post<MessageView>('/api/messages', body, 'msg-retry-1');
    assert.equal(later.body.id, sends[0]?.body.id);
    const page = await hub.api<Page<MessageView>>('GET', '/api/messages?limit=100');
    assert.equal(page.body.items.filter((m) => m.body === body.body).length, 1);
    const other = await post<MessageView>('/api/messages', body, 'msg-retry-2');
    assert.notEqual(other.body.id, later.body.id, 'another key is another message');
    const none = await post<MessageView>('/api/messages', body);
    assert.notEqual(none.body.id, other.body.id, 'no key: every send is a new message');
  });

  it('returns the first task for a retried create', async () => {
    const task = { title: 'once', kind: 'shell', input: { script: 'true' } };
    const first = await post<TaskView>('/api/tasks', task, 'task-retry-1');
    assert.equal(first.status, 201);
    const again = await post<TaskView>('/api/tasks', task, 'task-retry-1');
    assert.equal(again.body.id, first.body.id);
    const page = await hub.api<Page<TaskView>>('GET', '/api/tasks?limit=100');
    assert.equal(page.body.items.filter((t) => t.title === 'once').length, 1);
  });

  it("scopes keys to the caller: another credential's same key is its own request", async () => {
    const joined = await hub.api<{ apiToken: string }>(
      'POST',
      '/api/machines/join',
      { joinToken: await hub.joinToken(), name: 'other-caller', natsPublicKey: newMachineKey().publicKey },
      null,
    );
    const mine = await post<MessageView>('/api/messages', { to: 'hub', body: 'mine' }, 'shared-key');
    const theirs = await post<MessageView>(
      '/api/messages',
      { to: 'hub', body: 'theirs' },
      'shared-key',
      joined.body.apiToken,
    );
    assert.equal(theirs.status, 201);
    assert.notEqual(theirs.body.id, mine.body.id);
    assert.equal(theirs.body.body, 'theirs');
  });

  it('refuses a malformed key with 400', async () => {
    for (const key of ['has space', 'x'.repeat(201), 'tab\there']) {
      const res = await post<ErrorBody>('/api/messages', { to: 'hub', body: 'x' }, key);
      assert.equal(res.status, 400, key);
      assert.match(res.body.message, /Idempotency-Key/);
    }
  });
});
