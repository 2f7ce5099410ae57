import { AckPolicy, connect, credsAuthenticator, RetentionPolicy, StorageType } from 'nats';

import type { Page, TaskView } from '@waggle/contracts';
import { eventually, TestHub } from '@waggle/testing';

import type { Row } from './stats';
import { BENCH_ENV, percentile } from './stats';

const TASKS = 300;

interface Figures {
  perSecond: number;
  p50: number;
  p99: number;
}

/** Raw JetStream work queue: N jobs published, pulled by `workers` consumers sharing one durable, acked. */
async function rawWorkQueue(url: string, creds: string, workers: number): Promise<Figures> {
  const nc = await connect({ servers: url, authenticator: credsAuthenticator(new TextEncoder().encode(creds)) });
  try {
    const jsm = await nc.jetstreamManager();
    const stream = `BENCH_WQ_${workers}`;
    await jsm.streams.add({
      name: stream,
      subjects: [`bench.wq.${workers}`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
    });
    await jsm.consumers.add(stream, { durable_name: 'workers', ack_policy: AckPolicy.Explicit });
    const js = nc.jetstream();
    const latencies: number[] = [];
    const started = performance.now();
    let done = 0;
    const consumers = Array.from({ length: workers }, async () => {
      const consumer = await js.consumers.get(stream, 'workers');
      while (done < TASKS) {
        const batch = await consumer.fetch({ max_messages: 1, expires: 1000 });
        for await (const m of batch) {
          const sentAt = Number(new TextDecoder().decode(m.data));
          m.ack();
          latencies.push(performance.now() - sentAt);
          done++;
        }
      }
    });
    for (let i = 0; i < TASKS; i++) {
      await js.publish(`bench.wq.${workers}`, new TextEncoder().encode(String(performance.now())));
    }
    await Promise.all(consumers);
    const seconds = (performance.now() - started) / 1000;
    await jsm.streams.delete(stream);
    return { perSecond: TASKS / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    await nc.close();
  }
}

/** No-op command tasks through the API: create → placed → claimed → run → result recorded. */
async function waggleTasks(hub: TestHub, agents: number): Promise<Figures> {
  const names = Array.from({ length: agents }, (_, i) => `bench-${agents}-${i}`);
  const procs = await Promise.all(names.map((name) => hub.startAgent(name, { allowCommand: true, slots: 4 })));
  const started = performance.now();
  const ids: string[] = [];
  const queue = Array.from({ length: TASKS }, (_, i) => i);
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        const res = await hub.api<TaskView>('POST', '/api/tasks', {
          title: `no-op ${i}`,
          kind: 'command',
          input: { program: 'true' },
        });
        if (res.status !== 201) {
          throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
        }
        ids.push(res.body.id);
      }
    }),
  );
  const finished = await eventually(
    async () => {
      const all: TaskView[] = [];
      let cursor: string | undefined;
      do {
        const page = await hub.api<Page<TaskView>>(
          'GET',
          `/api/tasks?state=succeeded&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        );
        all.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor);
      const mine = all.filter((t) => ids.includes(t.id));
      if (mine.length < TASKS) {
        throw new Error(`${mine.length} of ${TASKS}`);
      }
      return mine;
    },
    { timeoutMs: 300_000, intervalMs: 100 },
  );
  const seconds = (performance.now() - started) / 1000;
  const latencies = finished.map((t) => Date.parse(t.updatedAt) - Date.parse(t.createdAt));
  await Promise.all(procs.map((p) => p.kill()));
  return { perSecond: TASKS / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export async function benchTasks(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const agents of [1, 2, 4]) {
    // A hub per round: only this round's agents take its tasks.
    const hub = await TestHub.start({ heartbeatIntervalMs: 1000, leaseSeconds: 15, env: BENCH_ENV });
    try {
      const waggle = await waggleTasks(hub, agents);
      const raw = await rawWorkQueue(hub.nats.url, hub.nats.material.hubCreds, agents);
      rows.push(
        {
          figure: `tasks/s, ${agents} agent${agents > 1 ? 's' : ''} × 4 slots`,
          value: waggle.perSecond,
          baseline: raw.perSecond,
          unit: '/s',
          baselineName: `JetStream work queue, ${agents} consumer(s)`,
        },
        {
          figure: `create→result p50, ${agents} agent(s)`,
          value: waggle.p50,
          baseline: raw.p50,
          unit: 'ms',
          baselineName: 'publish→ack p50',
        },
        {
          figure: `create→result p99, ${agents} agent(s)`,
          value: waggle.p99,
          baseline: raw.p99,
          unit: 'ms',
          baselineName: 'publish→ack p99',
        },
      );
    } finally {
      await hub.stop();
    }
  }
  return rows;
}
