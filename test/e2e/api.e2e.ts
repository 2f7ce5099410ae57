import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';

import type { ErrorBody, MessageView, Page } from '@waggle/contracts';
import { newMachineKey } from '@waggle/credentials';
import { TestHub } from '@waggle/testing';

interface FieldErrors {
  fields: { field: string; errors: string[] }[];
}

/** POST with `Expect: 100-continue`, as curl sends large bodies: the body goes only after the server's go-ahead. */
function postRaw(url: string, token: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'content-length': Buffer.byteLength(body),
        expect: '100-continue',
      },
    });
    req.on('continue', () => req.end(body));
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', (error) => {
      if (!answered) {
        reject(error);
      }
    });
    req.flushHeaders();
  });
}

const fieldsOf = (body: ErrorBody) => (body.details as FieldErrors).fields.map((f) => f.field).sort();

/** Bad input gets a clear 4xx saying what was wrong; nothing stored is lost; the hub keeps serving. */
describe('the API refuses bad input and keeps serving', () => {
  let hub: TestHub;
  let storedId: string;

  before(async () => {
    hub = await TestHub.start();
    await hub.startAgent('soda-yeti');
    const stored = await hub.api<MessageView>('POST', '/api/messages', { to: 'soda-yeti', body: 'kept' });
    storedId = stored.body.id;
  });
  after(() => hub.stop());

  it('needs a token on every /api call but not on /health', async () => {
    assert.equal((await hub.api('GET', '/api/machines', undefined, null)).status, 401);
    assert.equal((await hub.api('GET', '/api/messages', undefined, 'wgl_adm_not-a-real-token')).status, 401);
    assert.equal((await hub.api('POST', '/api/join-tokens', {}, null)).status, 401);
    const health = await hub.api<{ status: string }>('GET', '/health', undefined, null);
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    const ready = await hub.api<{ checks: Record<string, boolean> }>('GET', '/ready', undefined, null);
    assert.deepEqual(ready.body.checks, { nats: true, jetstream: true, postgres: true });
  });

  it('refuses wrong types and unknown fields with 400 and every field error', async () => {
    const res = await hub.api<ErrorBody>('POST', '/api/messages', { to: 42, body: ['x'], priority: 'high' });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'INVALID_INPUT');
    assert.deepEqual(fieldsOf(res.body), ['body', 'priority', 'to']);
    assert.ok(res.body.requestId);
  });

  it('refuses malformed JSON with 400', async () => {
    const res = await hub.api<ErrorBody>('POST', '/api/messages', '{"to": "all", "body": ');
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'INVALID_INPUT');
  });

  it('refuses a 10 MB body with 413', async () => {
    const res = await postRaw(
      `${hub.url}/api/messages`,
      hub.adminToken,
      JSON.stringify({ to: 'all', body: 'x'.repeat(10 * 1024 * 1024) }),
    );
    assert.equal(res.status, 413);
    assert.equal((JSON.parse(res.body) as ErrorBody).code, 'PAYLOAD_TOO_LARGE');
    // A body under the limit still goes through the same path.
    const small = await postRaw(
      `${hub.url}/api/messages`,
      hub.adminToken,
      JSON.stringify({ to: 'soda-yeti', body: 'y'.repeat(1000) }),
    );
    assert.equal(small.status, 201);
  });

  it('refuses names and bodies with control characters', async () => {
    const token = await hub.joinToken();
    const join = await hub.api<ErrorBody>(
      'POST',
      '/api/machines/join',
      { joinToken: token, name: 'bad\u0007name', natsPublicKey: `U${'A'.repeat(55)}` },
      null,
    );
    assert.equal(join.status, 400);
    assert.deepEqual(fieldsOf(join.body), ['name']);
    const message = await hub.api<ErrorBody>('POST', '/api/messages', { to: 'all', body: 'ring \u0007 bell' });
    assert.equal(message.status, 400);
    assert.deepEqual(fieldsOf(message.body), ['body']);
  });

  it('answers 404 for an unknown machine, and 401 for a bad join token', async () => {
    assert.equal((await hub.api<ErrorBody>('GET', '/api/machines/no-such-machine')).body.code, 'NOT_FOUND');
    assert.equal((await hub.api('POST', '/api/messages', { to: 'no-such-machine', body: 'x' })).status, 404);
    assert.equal((await hub.api('GET', '/api/messages?machine=no-such-machine')).status, 404);
    const join = await hub.api<ErrorBody>(
      'POST',
      '/api/machines/join',
      { joinToken: 'wgl_join_wrong', name: 'new-one', natsPublicKey: newMachineKey().publicKey },
      null,
    );
    assert.equal(join.status, 401);
    const forgedKey = await hub.api<ErrorBody>(
      'POST',
      '/api/machines/join',
      { joinToken: await hub.joinToken(), name: 'new-one', natsPublicKey: `U${'A'.repeat(55)}` },
      null,
    );
    assert.equal(forgedKey.status, 400, 'a key with a bad checksum is refused');
    assert.equal((await hub.api('GET', '/api/machines/new-one')).status, 404, 'and nothing was stored');
  });

  it('refuses a reused single-use join token and a taken name', async () => {
    const token = await hub.joinToken(1);
    const key = newMachineKey().publicKey;
    assert.equal(
      (await hub.api('POST', '/api/machines/join', { joinToken: token, name: 'first', natsPublicKey: key }, null))
        .status,
      201,
    );
    assert.equal(
      (await hub.api('POST', '/api/machines/join', { joinToken: token, name: 'second', natsPublicKey: key }, null))
        .status,
      401,
    );
    const another = await hub.joinToken(1);
    const taken = await hub.api<ErrorBody>(
      'POST',
      '/api/machines/join',
      { joinToken: another, name: 'soda-yeti', natsPublicKey: key },
      null,
    );
    assert.equal(taken.status, 409);
    assert.equal(
      (await hub.api('POST', '/api/machines/join', { joinToken: another, name: 'all', natsPublicKey: key }, null))
        .status,
      400,
    );
  });

  it('refuses bad pagination parameters', async () => {
    const res = await hub.api<ErrorBody>('GET', '/api/machines?limit=100000&cursor=%25%25');
    assert.equal(res.status, 400);
    assert.deepEqual(fieldsOf(res.body), ['cursor', 'limit']);
    const forged = await hub.api<ErrorBody>('GET', '/api/messages?cursor=bm90LWpzb24');
    assert.equal(forged.status, 400);
  });

  it('a machine may send but not revoke or create join tokens, and sees only its own messages', async () => {
    const token = await hub.joinToken();
    const joined = await hub.api<{ apiToken: string }>(
      'POST',
      '/api/machines/join',
      { joinToken: token, name: 'limited', natsPublicKey: newMachineKey().publicKey },
      null,
    );
    const machine = joined.body.apiToken;
    assert.equal((await hub.api('DELETE', '/api/machines/soda-yeti', undefined, machine)).status, 403);
    assert.equal((await hub.api('POST', '/api/join-tokens', {}, machine)).status, 403);
    const sent = await hub.api<MessageView>('POST', '/api/messages', { to: 'hub', body: 'from a machine' }, machine);
    assert.equal(sent.status, 201);
    assert.deepEqual(sent.body.from, { kind: 'machine', machineId: sent.body.from.machineId, name: 'limited' });
    const mine = await hub.api<Page<MessageView>>('GET', '/api/messages', undefined, machine);
    assert.deepEqual(
      mine.body.items.map((m) => m.body),
      ['from a machine'],
    );
  });

  it('accepts 200 sends from 20 concurrent clients (no pool starvation)', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, c) =>
        Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            hub.api('POST', '/api/messages', { to: 'soda-yeti', body: `concurrent ${c}-${i}` }),
          ),
        ),
      ),
    );
    const statuses = results.flat().map((r) => r.status);
    assert.deepEqual([...new Set(statuses)], [201]);
  });

  it('concurrent sends share transactions, and a bad recipient fails only its own send', async () => {
    const sends = Array.from({ length: 40 }, (_, i) =>
      hub.api<MessageView & ErrorBody>('POST', '/api/messages', {
        to: i === 17 ? 'no-such-machine' : i === 23 ? 'all' : 'soda-yeti',
        body: `grouped ${i}`,
      }),
    );
    const results = await Promise.all(sends);
    const refused = results.filter((r) => r.status !== 201);
    assert.equal(refused.length, 1, JSON.stringify(refused.map((r) => r.body)));
    assert.equal(refused[0]!.status, 404);
    assert.match(refused[0]!.body.message, /no-such-machine/);
    const stored = results.filter((r) => r.status === 201).map((r) => r.body);
    assert.equal(new Set(stored.map((m) => m.id)).size, 39, 'every send has its own message');
    for (const m of stored) {
      // Each answer is its own request's: its body, and its recipients.
      const i = Number(m.body.split(' ')[1]);
      assert.equal(m.to, i === 23 ? 'all' : 'soda-yeti');
      const names = m.recipients.map((r) => r.name);
      if (i === 23) {
        assert.ok(names.length > 1 && names.includes('soda-yeti'), `all: ${names.join(',')}`);
      } else {
        assert.deepEqual(names, ['soda-yeti']);
      }
    }
    const page = await hub.api<Page<MessageView>>('GET', '/api/messages?limit=100');
    for (const m of stored) {
      assert.equal(page.body.items.find((p) => p.id === m.id)?.body, m.body, `message ${m.id} stored as answered`);
    }
  });

  it('lost nothing and still serves after all of that', async () => {
    const page = await hub.api<Page<MessageView>>('GET', '/api/messages?machine=soda-yeti&limit=500');
    assert.equal(page.status, 200);
    assert.ok(page.body.items.some((m) => m.id === storedId && m.body === 'kept'));
    assert.equal(hub.gateway.running && hub.registry.running, true);
  });
});
