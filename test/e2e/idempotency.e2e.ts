import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { Client } from 'pg';

import type {
  CreatedJoinToken,
  ErrorBody,
  JoinResponse,
  MachineView,
  MessageView,
  Page,
  TaskView,
} from '@waggle/contracts';
import { newMachineKey } from '@waggle/credentials';
import { eventually, TestHub } from '@waggle/testing';

const post = async <T>(
  hub: TestHub,
  path: string,
  body: unknown,
  key?: string,
  token: string | null = hub.adminToken,
) => {
  const res = await fetch(`${hub.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
};

/** A client whose create timed out retries with the same Idempotency-Key: nothing is made twice. */
describe('Idempotency-Key on creates', () => {
  let hub: TestHub;

  before(async () => {
    hub = await TestHub.start();
    await hub.startAgent('soda-yeti', { allowShell: true });
  });

  after(() => hub.stop());

  const send = <T>(path: string, body: unknown, key?: string, token: string | null = hub.adminToken) =>
    post<T>(hub, path, body, key, token);

  it('returns the first message for every retry with the same key, concurrent ones included', async () => {
    const body = { to: 'soda-yeti', body: 'exactly once, please' };
    const sends = await Promise.all(
      Array.from({ length: 8 }, () => send<MessageView>('/api/messages', body, 'msg-retry-1')),
    );
    for (const send of sends) {
      assert.equal(send.status, 201);
    }
    const ids = new Set(sends.map((s) => s.body.id));
    assert.equal(ids.size, 1, `ids: ${[...ids].join(', ')}`);
    const later = await send<MessageView>('/api/messages', body, 'msg-retry-1');
    assert.equal(later.body.id, sends[0]?.body.id);
    const page = await hub.api<Page<MessageView>>('GET', '/api/messages?limit=100');
    assert.equal(page.body.items.filter((m) => m.body === body.body).length, 1);
    const other = await send<MessageView>('/api/messages', body, 'msg-retry-2');
    assert.notEqual(other.body.id, later.body.id, 'another key is another message');
    const none = await send<MessageView>('/api/messages', body);
    assert.notEqual(none.body.id, other.body.id, 'no key: every send is a new message');
  });

  it('returns the first task for a retried create', async () => {
    const task = { title: 'once', kind: 'shell', input: { script: 'true' } };
    const first = await send<TaskView>('/api/tasks', task, 'task-retry-1');
    assert.equal(first.status, 201);
    const again = await send<TaskView>('/api/tasks', task, 'task-retry-1');
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
    const mine = await send<MessageView>('/api/messages', { to: 'hub', body: 'mine' }, 'shared-key');
    const theirs = await send<MessageView>(
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
      const res = await send<ErrorBody>('/api/messages', { to: 'hub', body: 'x' }, key);
      assert.equal(res.status, 400, key);
      assert.match(res.body.message, /Idempotency-Key/);
    }
  });
  it('refuses the same key with another body (422 IDEMPOTENCY_KEY_REUSED), and makes nothing', async () => {
    const first = await send<MessageView>('/api/messages', { to: 'soda-yeti', body: 'the first' }, 'reused-key');
    assert.equal(first.status, 201);
    // Key order does not make another body.
    const sameBody = await send<MessageView>('/api/messages', { body: 'the first', to: 'soda-yeti' }, 'reused-key');
    assert.equal(sameBody.body.id, first.body.id);
    const other = await send<ErrorBody>('/api/messages', { to: 'soda-yeti', body: 'the second' }, 'reused-key');
    assert.equal(other.status, 422);
    assert.equal(other.body.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.match(other.body.message, /different request/);
    const page = await hub.api<Page<MessageView>>('GET', '/api/messages?limit=100');
    assert.equal(page.body.items.filter((m) => m.body === 'the second').length, 0);

    const task = { title: 'keyed', kind: 'shell', input: { script: 'true' } };
    assert.equal((await send<TaskView>('/api/tasks', task, 'task-reused')).status, 201);
    const changed = await send<ErrorBody>('/api/tasks', { ...task, input: { script: 'rm -rf /' } }, 'task-reused');
    assert.equal(changed.status, 422);
    assert.equal(changed.body.code, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('shows a join token again to a repeat of its create, and that token joins', async () => {
    const key = randomUUID();
    const body = { description: 'lab', maxUses: 2 };
    const first = await send<CreatedJoinToken>('/api/join-tokens', body, key);
    assert.equal(first.status, 201);
    const again = await send<CreatedJoinToken>('/api/join-tokens', body, key);
    assert.equal(again.status, 201);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.body.token, first.body.token, 'the same token, though the hub keeps only its hash');
    const other = await send<ErrorBody>('/api/join-tokens', { ...body, maxUses: 50 }, key);
    assert.equal(other.status, 422);
    const unkeyed = await send<CreatedJoinToken>('/api/join-tokens', body);
    assert.notEqual(unkeyed.body.token, first.body.token);
    const joined = await send<JoinResponse>(
      '/api/machines/join',
      { joinToken: again.body.token, name: 'from-repeat', natsPublicKey: newMachineKey().publicKey },
      undefined,
      null,
    );
    assert.equal(joined.status, 201, JSON.stringify(joined.body));
  });

  it('answers a repeated join with the same credentials, spending the join token once', async () => {
    const joinToken = await hub.joinToken(1);
    const key = randomUUID();
    const body = { joinToken, name: 'joined-once', natsPublicKey: newMachineKey().publicKey };
    const first = await send<JoinResponse>('/api/machines/join', body, key, null);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    // The answer was lost; the agent asks again with the same key (the single use is spent already).
    const again = await send<JoinResponse>('/api/machines/join', body, key, null);
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.body.machineId, first.body.machineId);
    assert.equal(again.body.apiToken, first.body.apiToken);
    const me = await hub.api<{ kind: string; name: string }>('GET', '/api/auth/whoami', undefined, again.body.apiToken);
    assert.deepEqual([me.status, me.body.name], [200, 'joined-once']);
    const machines = await hub.api<Page<MachineView>>('GET', '/api/machines?limit=100');
    assert.equal(machines.body.items.filter((m) => m.name === 'joined-once').length, 1);
    // Without the key, the spent token is refused; with it and another body, the key is refused.
    const fresh = await send<ErrorBody>('/api/machines/join', { ...body, name: 'joined-twice' }, undefined, null);
    assert.equal(fresh.status, 401);
    const reused = await send<ErrorBody>('/api/machines/join', { ...body, name: 'joined-twice' }, key, null);
    assert.equal(reused.status, 422);
  });
});

/** Keys live WAGGLE_IDEMPOTENCY_TTL_SECONDS (a day; 4 s here): then the same key makes anew, and the prune clears old keys. */
describe('Idempotency-Key lifetime', () => {
  let hub: TestHub;
  let db: Client;

  before(async () => {
    hub = await TestHub.start({ env: { WAGGLE_IDEMPOTENCY_TTL_SECONDS: '4' } });
    await hub.startAgent('ttl-agent', { allowShell: true });
    db = new Client({ connectionString: hub.databaseUrl });
    await db.connect();
  });

  after(async () => {
    await db.end();
    await hub.stop();
  });

  const keyOf = async (table: string, id: string) =>
    (await db.query<{ idempotency_key: string | null }>(`SELECT "idempotency_key" FROM ${table} WHERE "id" = $1`, [id]))
      .rows[0]?.idempotency_key;

  it('makes anew for a key reused after its lifetime', async () => {
    const body = { to: 'hub', body: 'once a day' };
    const first = await post<MessageView>(hub, '/api/messages', body, 'daily');
    assert.equal(first.status, 201);
    assert.equal((await post<MessageView>(hub, '/api/messages', body, 'daily')).body.id, first.body.id);
    const later = await eventually(
      async () => {
        const res = await post<MessageView>(hub, '/api/messages', body, 'daily');
        assert.equal(res.status, 201);
        assert.notEqual(res.body.id, first.body.id, 'still the first message');
        return res.body;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the key to expire' },
    );
    // The new message holds the key now; a repeat gets it.
    assert.equal((await post<MessageView>(hub, '/api/messages', body, 'daily')).body.id, later.id);
    // So does another body after the key expired: it is a new request, not a reuse.
    const token = await post<CreatedJoinToken>(hub, '/api/join-tokens', { description: 'a' }, 'jt');
    await eventually(
      async () => {
        const res = await post<CreatedJoinToken>(hub, '/api/join-tokens', { description: 'b' }, 'jt');
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.notEqual(res.body.id, token.body.id);
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the join token key to expire' },
    );
  });

  it('clears expired keys from the rows that hold them', async () => {
    const message = await post<MessageView>(hub, '/api/messages', { to: 'hub', body: 'pruned' }, 'prune-me');
    const token = await post<CreatedJoinToken>(hub, '/api/join-tokens', {}, 'prune-me-too');
    const task = await post<TaskView>(
      hub,
      '/api/tasks',
      { title: 'pruned', kind: 'shell', input: { script: 'true' } },
      'prune-the-task',
    );
    assert.equal(task.status, 201, JSON.stringify(task.body));
    assert.ok(await keyOf('"registry"."messages"', message.body.id), 'the key is kept while it lives');
    assert.ok(await keyOf('"registry"."join_tokens"', token.body.id));
    assert.ok(await keyOf('"task_router"."tasks"', task.body.id));
    await eventually(
      async () => {
        assert.equal(await keyOf('"registry"."messages"', message.body.id), null);
        assert.equal(await keyOf('"registry"."join_tokens"', token.body.id), null);
        assert.equal(await keyOf('"task_router"."tasks"', task.body.id), null);
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the prune' },
    );
  });
});
