import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { ErrorBody, MessageView, Page } from '@waggle/contracts';
import { ThrowawayPostgres } from '@waggle/local-infra';
import { eventually, TestHub } from '@waggle/testing';

/** Postgres goes away under the hub (a throwaway cluster of the test's own, never the shared one). */
describe('Postgres down: 503 with Retry-After, and back to serving when it returns', () => {
  let postgres: ThrowawayPostgres;
  let hub: TestHub;

  before(async () => {
    postgres = await ThrowawayPostgres.create();
    await postgres.start();
    hub = await TestHub.start({ databaseServer: postgres.url });
    await hub.startAgent('soda-yeti');
  });

  after(async () => {
    await postgres?.start().catch(() => undefined);
    await hub?.stop();
    await postgres?.destroy();
  });

  it('answers 503 with Retry-After and a clear message while Postgres is down, then serves again', async () => {
    const before = await hub.api<MessageView>('POST', '/api/messages', { to: 'soda-yeti', body: 'before the outage' });
    assert.equal(before.status, 201);

    await postgres.stop();
    const answers: { status: number; retryAfter: string | null; body: ErrorBody }[] = [];
    const attempt = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${hub.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      answers.push({
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body: (await res.json()) as ErrorBody,
      });
    };
    for (let i = 0; i < 10; i++) {
      await attempt('POST', '/api/messages', { to: 'soda-yeti', body: `during ${i}` });
      await attempt('GET', '/api/machines');
      await attempt('GET', '/api/tasks');
    }
    const wrong = answers.filter((a) => a.status !== 503);
    assert.deepEqual(
      wrong.map((a) => `${a.status} ${a.body.code} ${a.body.message}`),
      [],
      'every request during the outage is a 503',
    );
    for (const answer of answers) {
      assert.equal(answer.body.code, 'UNAVAILABLE');
      assert.match(answer.body.message, /database is unavailable/);
      assert.ok(Number(answer.retryAfter) > 0, `Retry-After: ${answer.retryAfter}`);
    }
    const ready = await fetch(`${hub.url}/ready`);
    assert.equal(ready.status, 503, '/ready says so too');

    await postgres.start();
    await eventually(async () => {
      const after = await hub.api<MessageView>('POST', '/api/messages', { to: 'soda-yeti', body: 'after the outage' });
      assert.equal(after.status, 201);
    });
    const page = await hub.api<Page<MessageView>>('GET', '/api/messages?limit=50');
    assert.equal(page.status, 200);
    const bodies = page.body.items.map((m) => m.body);
    assert.ok(bodies.includes('before the outage'), 'what was stored before is still there');
    assert.ok(bodies.includes('after the outage'));
  });
});
