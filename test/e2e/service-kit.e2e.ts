import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';

import { Client } from 'pg';

import type { RpcReply } from '@waggle/contracts';
import { ErrorCode, TaskRouterRpc } from '@waggle/contracts';
import { authMaterialFiles } from '@waggle/credentials';
import { connectNats, decodeJson, encodeJson } from '@waggle/messaging';
import { outboxChannel } from '@waggle/outbox';
import { eventually, TestHub } from '@waggle/testing';

/** Every hub service with an outbox, by its Postgres schema. */
const OUTBOX_SCHEMAS = ['registry', 'task_router', 'llm', 'github'] as const;

/** What every hub service gets from the service kit, shown on the real processes. */
describe('the service kit', () => {
  let hub: TestHub;
  let db: Client;

  before(async () => {
    hub = await TestHub.start({
      // Relayed rows are kept for a second and the prune runs five times a second.
      env: { WAGGLE_OUTBOX_RETENTION_SECONDS: '1', WAGGLE_OUTBOX_PRUNE_INTERVAL_MS: '200' },
      llm: { env: {} },
      github: { env: {} },
    });
    db = new Client({ connectionString: hub.databaseUrl });
    await db.connect();
  });

  after(async () => {
    await db?.end();
    await hub?.stop();
  });

  it("answers NATS service discovery, and a gateway's /ready waits for the services it was told of", async () => {
    // Told of one that does not run here: never ready, and says which.
    const waiting = await hub.startGateway({ WAGGLE_GATEWAY_REQUIRED_SERVICES: 'registry,task-router,github-bot' });
    const ready = await fetch(`${waiting.url}/ready`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { checks: Record<string, boolean> };
    assert.deepEqual(
      Object.entries(body.checks).filter(([k]) => k.startsWith('service:')),
      [
        ['service:registry', true],
        ['service:task-router', true],
        ['service:github-bot', true],
      ],
    );
    await hub.githubBot!.kill();
    await eventually(async () => {
      const down = await fetch(`${waiting.url}/ready`);
      assert.equal(down.status, 503);
      const checks = ((await down.json()) as { checks: Record<string, boolean> }).checks;
      assert.equal(checks['service:github-bot'], false);
      assert.equal(checks['service:registry'], true);
    });
    hub.githubBot!.start();
    await eventually(async () => assert.equal((await fetch(`${waiting.url}/ready`)).status, 200), {
      timeoutMs: 60_000,
      what: 'ready again once the bot is back',
    });
  });

  it('relays and then prunes the outbox of every hub service', async () => {
    for (const schema of OUTBOX_SCHEMAS) {
      await db.query(`INSERT INTO "${schema}"."outbox" ("subject", "payload", "msg_id") VALUES ($1, $2::jsonb, $3)`, [
        `waggle.events.test.${schema}`,
        JSON.stringify({ v: 1, schema }),
        `prune-test-${schema}`,
      ]);
      // As addToOutbox does: the commit notifies the service's relays (they do not poll).
      await db.query('SELECT pg_notify($1, $2)', [outboxChannel(schema), '']);
    }
    // Each service's relay publishes its row (sent_at set), and its prune deletes it once older than the retention.
    await eventually(
      async () => {
        // One query at a time: a pg Client runs one query at once.
        const counts: (readonly [string, number])[] = [];
        for (const schema of OUTBOX_SCHEMAS) {
          const { rows } = await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM "${schema}"."outbox" WHERE "msg_id" LIKE 'prune-test-%'`,
          );
          counts.push([schema, Number(rows[0]?.n)] as const);
        }
        const left = counts.filter(([, n]) => n > 0);
        assert.deepEqual(left, [], `outbox rows left: ${JSON.stringify(left)}`);
      },
      { timeoutMs: 15_000, what: 'every outbox pruned' },
    );
  });

  it('validates a NATS request against its contract class, answers with the error enum, and keeps serving', async () => {
    const nc = await connectNats({
      servers: hub.nats.url,
      name: 'kit-test',
      creds: await readFile(authMaterialFiles(hub.nats.authDir).hubCreds, 'utf8'),
    });
    try {
      const ask = async (payload: unknown) => {
        const reply = await nc.request(TaskRouterRpc.get, encodeJson(payload), { timeout: 5_000 });
        return decodeJson(reply.data) as RpcReply<unknown>;
      };
      const badId = await ask({ taskId: 'not-a-uuid' });
      assert.equal(badId.ok, false);
      assert.equal(!badId.ok && badId.error.code, ErrorCode.InvalidInput);
      const unknownField = await ask({ taskId: randomUUID(), admin: true });
      assert.equal(!unknownField.ok && unknownField.error.code, ErrorCode.InvalidInput);
      const notJson = decodeJson(
        (await nc.request(TaskRouterRpc.get, new TextEncoder().encode('{'), { timeout: 5_000 })).data,
      ) as RpcReply<unknown>;
      assert.equal(!notJson.ok && notJson.error.code, ErrorCode.InvalidInput);
      const missing = await ask({ taskId: randomUUID() });
      assert.equal(!missing.ok && missing.error.code, ErrorCode.NotFound);
      const list = await ask({});
      assert.equal(list.ok, false, 'tasks.get without a task id is invalid');
      const page = decodeJson(
        (await nc.request(TaskRouterRpc.list, encodeJson({ limit: 1 }), { timeout: 5_000 })).data,
      ) as RpcReply<{ items: unknown[] }>;
      assert.ok(page.ok && Array.isArray(page.data.items));
    } finally {
      await nc.close();
    }
  });
});
