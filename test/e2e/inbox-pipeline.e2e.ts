import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { AckPolicy, DeliverPolicy, nanos } from 'nats';
import type { NatsConnection } from 'nats';

import { InboxMessage, Streams } from '@waggle/contracts';
import { freePort, LocalNatsServer } from '@waggle/local-infra';
import type { Delivered } from '@waggle/messaging';
import { connectNats, consumePipelined, encodeJson, provisionStreams } from '@waggle/messaging';
import { createLogger } from '@waggle/observability';
import { eventually } from '@waggle/testing';

const SUBJECT = 'waggle.m.pipeline-test.inbox';
const DURABLE = 'pipeline-test';

/** A gate a test opens by hand: the commit it holds waits until then. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/**
 * The node-agent's inbox pipeline (consumePipelined): while a commit (the delivery receipt)
 * is in flight the next batches are staged (stored), and nothing is acked before its
 * commit passed, in delivery order; a failed commit is redelivered.
 */
describe('pipelined consumer', () => {
  let dir: string;
  let nats: LocalNatsServer;
  let nc: NatsConnection;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-pipeline-'));
    nats = new LocalNatsServer({ dir, port: await freePort() });
    await nats.start();
    nc = await connectNats({ servers: nats.url, name: 'pipeline-test', creds: nats.material.hubCreds });
    const jsm = await nc.jetstreamManager();
    await provisionStreams(jsm, { replicas: 1 });
    await jsm.consumers.add(Streams.messages.name, {
      durable_name: DURABLE,
      filter_subject: SUBJECT,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(30_000),
      max_deliver: -1,
    });
  });
  after(async () => {
    await nc?.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const publish = async (count: number) => {
    const js = nc.jetstream();
    for (let i = 1; i <= count; i++) {
      const message: InboxMessage = {
        v: 1,
        id: String(i),
        from: { kind: 'admin', name: 'admin' },
        to: 'pipeline-test',
        body: `message ${i}`,
        sentAt: new Date().toISOString(),
      };
      await js.publish(SUBJECT, encodeJson(message));
    }
  };
  const consumerInfo = async () => (await nc.jetstreamManager()).consumers.info(Streams.messages.name, DURABLE);

  it('stages the next batches while a commit is in flight, acks only after commits, in delivery order', async () => {
    await publish(30);
    const events: string[] = [];
    const staged: string[] = [];
    const gates = [gate(), gate(), gate()];
    /** The ids of each commit, in the order the commits started. */
    const commits: string[][] = [];
    let failedOnce = false;
    const stop = new AbortController();
    /** Records each ack and nak, and when, among the other events. */
    const watchAcks = (items: Delivered<InboxMessage>[]) => {
      for (const { msg, payload } of items) {
        const ack = msg.ack.bind(msg);
        const nak = msg.nak.bind(msg);
        msg.ack = () => {
          events.push(`ack ${payload.id}`);
          ack();
        };
        msg.nak = (delay) => {
          events.push(`nak ${payload.id}`);
          nak(delay);
        };
      }
    };
    const done = consumePipelined({
      js: nc.jetstream(),
      stream: Streams.messages.name,
      consumer: DURABLE,
      type: InboxMessage,
      batchSize: 5,
      maxDeliver: -1,
      logger: createLogger('pipeline-test', 'silent', false),
      signal: stop.signal,
      stage: (items) => {
        watchAcks(items);
        staged.push(...items.map((i) => i.payload.id));
        events.push(`staged ${items.map((i) => i.payload.id).join(',')}`);
        return Promise.resolve();
      },
      commit: async (items) => {
        const n = commits.length;
        const ids = items.map((i) => i.payload.id);
        commits.push(ids);
        await (gates[n] ?? gates[2]!).opened;
        // The third commit fails once: its messages come again, and are committed then.
        if (n === 2 && !failedOnce) {
          failedOnce = true;
          events.push(`failed ${ids.join(',')}`);
          throw new Error('receipt not answered');
        }
        events.push(`committed ${ids.join(',')}`);
      },
      commitSize: 10,
      commitsInFlight: 2,
    });

    try {
      // The first commit waits; stage one goes on with the batches after it.
      await eventually(() => assert.equal(staged.length, 30, `${staged.length} staged`), {
        what: 'all batches staged while the first commit is held',
      });
      assert.ok(!events.some((e) => e.startsWith('ack')), 'nothing acked before a commit passed');
      assert.equal((await consumerInfo()).num_ack_pending, 30);

      // The second commit passes first: its acks still wait for the first.
      await eventually(() => assert.equal(commits.length, 2, 'two commits in flight'));
      gates[1]!.open();
      await eventually(() => assert.ok(events.includes(`committed ${commits[1]!.join(',')}`)));
      assert.ok(!events.some((e) => e.startsWith('ack')), 'acks follow commits in delivery order');
      gates[0]!.open();
      gates[2]!.open();
      await eventually(
        async () => {
          const info = await consumerInfo();
          assert.equal(info.num_ack_pending, 0);
          assert.equal(info.ack_floor.stream_seq, info.delivered.stream_seq);
        },
        { what: 'every message acked', timeoutMs: 20_000 },
      );
    } finally {
      stop.abort();
      await done;
    }

    // Settled (acked, or nak'ed for the failed commit) in delivery order; each acked once, after its commit.
    const settled = events.filter((e) => /^(ack|nak) /.test(e)).map((e) => Number(e.split(' ')[1]));
    const firstSettlements = settled.filter((id, i) => settled.indexOf(id) === i);
    assert.deepEqual(
      firstSettlements,
      Array.from({ length: 30 }, (_, i) => i + 1),
      'settled in delivery order',
    );
    const acks = events.filter((e) => e.startsWith('ack')).map((e) => e.split(' ')[1]!);
    assert.equal(new Set(acks).size, 30, 'every message acked');
    assert.equal(acks.length, 30, 'none acked twice');
    for (const id of acks) {
      const committed = events.findIndex((e) => e.startsWith('committed') && e.split(' ')[1]!.split(',').includes(id));
      assert.ok(committed >= 0 && committed < events.indexOf(`ack ${id}`), `message ${id} acked after its commit`);
    }
    // The failed commit's messages were nak'ed, delivered again, staged again and committed.
    const failed = events.find((e) => e.startsWith('failed'))!;
    for (const id of failed.split(' ')[1]!.split(',')) {
      assert.equal(staged.filter((s) => s === id).length, 2, `message ${id} staged twice`);
    }
  });
});
