import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';

import { Streams } from '@waggle/contracts';
import { createDatabase, dropDatabase, freePort, LocalNatsServer } from '@waggle/local-infra';
import { connectNats, provisionStreams } from '@waggle/messaging';
import { createLogger } from '@waggle/observability';
import { addToOutbox, event, outboxTableSql, OutboxTransactions } from '@waggle/outbox';
import { eventually, testDatabaseServer } from '@waggle/testing';

const SCHEMA = 'outbox_test';

/**
 * The relay does not poll: a commit wakes the relay of the replica that made it, and
 * LISTEN/NOTIFY wakes the others' (one holds the relay lock at a time).
 */
describe('outbox relays woken by commits', () => {
  let dir: string;
  let nats: LocalNatsServer;
  let nc: NatsConnection;
  let url: string;
  const database = `waggle_outbox_${randomBytes(4).toString('hex')}`;
  const sources: DataSource[] = [];
  const replicas: OutboxTransactions[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-outbox-'));
    nats = new LocalNatsServer({ dir, port: await freePort() });
    await nats.start();
    nc = await connectNats({ servers: nats.url, name: 'outbox-test', creds: nats.material.hubCreds });
    await provisionStreams(await nc.jetstreamManager(), { replicas: 1 });
    url = await createDatabase(testDatabaseServer(), database);
    for (let i = 0; i < 2; i++) {
      const dataSource = await new DataSource({ type: 'postgres', url, extra: { max: 4 } }).initialize();
      sources.push(dataSource);
      if (i === 0) {
        await dataSource.query(`CREATE SCHEMA "${SCHEMA}"`);
        for (const sql of outboxTableSql(SCHEMA)) {
          await dataSource.query(sql);
        }
      }
      // An interval of an hour: anything relayed within the test was woken, not polled.
      const replica = new OutboxTransactions({
        dataSource,
        js: nc.jetstream(),
        schema: SCHEMA,
        logger: createLogger(`replica-${i}`, 'silent'),
        intervalMs: 3600_000,
      });
      replica.start();
      replicas.push(replica);
    }
  });

  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await Promise.all(sources.map((s) => s.destroy()));
    await nc?.close();
    await nats?.stop();
    await dropDatabase(testDatabaseServer(), database).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  const unsent = async () =>
    (
      await sources[0]!.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "${SCHEMA}"."outbox" WHERE "sent_at" IS NULL`,
      )
    )[0]!.n;
  const stored = async () => (await (await nc.jetstreamManager()).streams.info(Streams.events.name)).state.messages;

  it('relays rows committed by either replica and by a plain connection, without polling', async () => {
    const commit = (replica: OutboxTransactions, n: number, tag: string) =>
      replica.run(() =>
        Promise.resolve({
          result: undefined,
          outbox: Array.from({ length: n }, (_, i) =>
            event(`${tag}-${i}`, 'machine.online', { machineId: `${tag}-${i}`, name: tag }),
          ),
        }),
      );
    // Both replicas commit at once: one of them finds the relay lock taken, and is woken by the notification.
    await Promise.all([commit(replicas[0]!, 50, 'a'), commit(replicas[1]!, 50, 'b')]);
    await eventually(async () => assert.equal(await stored(), 100), { what: 'both replicas relayed' });

    // A row written by a transaction that is no relay's own (another process): only NOTIFY can wake one.
    await sources[1]!.transaction(async (manager) => {
      await addToOutbox(manager, SCHEMA, [event('c-0', 'machine.online', { machineId: 'c-0', name: 'c' })]);
    });
    await eventually(async () => assert.equal(await unsent(), 0), { what: 'notified relay published the row' });
    assert.equal(await stored(), 101);
  });
});
