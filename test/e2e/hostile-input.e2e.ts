import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { ErrorBody, Page } from '@waggle/contracts';
import { TestHub } from '@waggle/testing';

const ENDPOINTS = [
  '/api/messages',
  '/api/tasks',
  '/api/join-tokens',
  '/v1/chat/completions',
  '/v1/messages',
  '/api/github/webhook',
  '/api/secrets',
] as const;

/** Malformed bodies of each kind the hardening issue found reaching a 5xx, and their relatives. */
function hostileBodies(round: number): { kind: string; body: string | Uint8Array<ArrayBuffer> }[] {
  const depth = 1_000 + round * 9;
  return [
    { kind: 'deep arrays', body: '['.repeat(depth) + ']'.repeat(depth) },
    { kind: 'deep objects', body: '{"to":'.repeat(depth) + '"x"' + '}'.repeat(depth) },
    { kind: 'deep field', body: `{"to":"soda-yeti","body":${'['.repeat(depth)}${']'.repeat(depth)}}` },
    { kind: 'lone surrogate', body: `{"to":"soda-yeti","body":"hi \\ud800 ${round}","model":"m\\udc0${round % 10}"}` },
    { kind: 'NUL', body: `{"model":"gpt\\u0000${round}","to":"a\\u0000","messages":[{"role":"user","content":"x"}]}` },
    { kind: 'NUL key', body: `{"a\\u0000b":${round}}` },
    { kind: 'truncated', body: `{"to":"soda-yeti","body":"${'x'.repeat(round)}` },
    { kind: 'not an object', body: JSON.stringify([[round], 'x', null, 1e308]) },
    {
      kind: 'wrong types',
      body: JSON.stringify({ to: round, body: [round], model: { x: round }, messages: 'x', kind: 7 }),
    },
    { kind: 'huge number', body: `{"maxUses":1e400,"max_tokens":-1e400,"body":${round}}` },
    { kind: 'prototype keys', body: `{"__proto__":{"admin":true},"constructor":{"prototype":{"x":${round}}}}` },
    {
      kind: 'invalid UTF-8',
      body: new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, round % 256, 0x22, 0x7d]),
    },
  ];
}

/** Thousands of malformed requests to every endpoint that takes a body: every answer is a 4xx. */
describe('hostile input gets a 4xx, never a 5xx, and nothing is stored', () => {
  let hub: TestHub;

  before(async () => {
    hub = await TestHub.start({ llm: { env: {} }, vault: {} });
  });

  after(async () => {
    await hub?.stop();
  });

  it('answers every malformed body with a 4xx that says what was wrong', async () => {
    const statuses = new Map<number, number>();
    const serverErrors: string[] = [];
    const requests: { path: string; kind: string; body: string | Uint8Array<ArrayBuffer> }[] = [];
    for (let round = 0; round < 30; round++) {
      for (const path of ENDPOINTS) {
        for (const { kind, body } of hostileBodies(round)) {
          requests.push({ path, kind, body });
        }
      }
    }
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < requests.length; i = next++) {
        const { path, kind, body } = requests[i] ?? assert.fail('no request');
        const res = await fetch(`${hub.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.adminToken}` },
          body,
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) {
          serverErrors.push(`${path} ${kind}: ${res.status} ${text.slice(0, 200)}`);
        } else {
          assert.ok(res.status >= 400 && res.status < 500, `${path} ${kind}: ${res.status}`);
          assert.doesNotMatch(
            text,
            /RangeError|stack size|at .*\.js:\d+/,
            `${path} ${kind} leaks internals: ${text.slice(0, 200)}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.deepEqual(serverErrors.slice(0, 10), [], `${serverErrors.length} of ${requests.length} got a 5xx`);
    assert.ok(requests.length >= 2_000, `sent ${requests.length}`);
    assert.ok([...statuses.keys()].every((s) => s >= 400 && s < 500));
  });

  it('says why in the reply: the nesting, the surrogate, the NUL', async () => {
    const post = async (body: string) => {
      const res = await hub.api<ErrorBody>('POST', '/api/messages', body);
      assert.equal(res.status, 400);
      assert.equal(res.body.code, 'INVALID_INPUT');
      return res.body.message;
    };
    assert.match(await post('['.repeat(10_000) + ']'.repeat(10_000)), /nested deeper than 32 levels/);
    assert.match(await post('{"to":"soda-yeti","body":"\\ud800"}'), /body\.body is not valid Unicode/);
    assert.match(await post('{"to":"soda-yeti","body":"a\\u0000b"}'), /body\.body contains a NUL character/);
    const llm = await hub.api<ErrorBody>('POST', '/v1/chat/completions', '{"model":"gpt\\u0000","messages":[]}');
    assert.equal(llm.status, 400);
  });

  it('stored nothing and still serves', async () => {
    const messages = await hub.api<Page<unknown>>('GET', '/api/messages?limit=5');
    assert.equal(messages.status, 200);
    assert.equal(messages.body.items.length, 0);
    const tasks = await hub.api<Page<unknown>>('GET', '/api/tasks?limit=5');
    assert.equal(tasks.status, 200);
    assert.equal(tasks.body.items.length, 0);
    const secrets = await hub.api<Page<unknown>>('GET', '/api/secrets?limit=5');
    assert.equal(secrets.status, 200);
    assert.equal(secrets.body.items.length, 0);
    const token = await hub.api('POST', '/api/join-tokens', { maxUses: 1, description: 'after the storm' });
    assert.equal(token.status, 201);
  });
});
