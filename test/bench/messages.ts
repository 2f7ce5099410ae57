import { open } from 'node:fs/promises';

import type { MessageView } from '@waggle/contracts';
import { authMaterialFiles } from '@waggle/credentials';
import type { ServiceProcess } from '@waggle/testing';
import { eventually, TestHub } from '@waggle/testing';

import type { BenchConfig } from './bench.config';
import { fillForDrain, rawLatencyAtRate, rawPublish } from './jetstream-baseline';
import { HttpClient, runAtRate, runConcurrent, runFor } from './load';
import type { Counts, ProcessProbe } from './meter';
import { Meter } from './meter';
import { RawPostgres } from './postgres-baseline';
import { exited, spawnProgram, startProgram, stopProgram } from './programs';
import type { Section } from './stats';
import { BENCH_ENV, percentile, summarize } from './stats';

const BODY = 'x'.repeat(200);
const AGENT = 'bench-agent';

/** Reads only what was appended to an agent's inbox since the last call: polling stays cheap. */
class InboxTail {
  private offset = 0;
  private partial = '';
  readonly received = new Map<string, number>();

  constructor(private readonly path: string) {}

  async read(): Promise<Map<string, number>> {
    const handle = await open(this.path, 'r').catch(() => undefined);
    if (!handle) {
      return this.received;
    }
    try {
      const { size } = await handle.stat();
      if (size > this.offset) {
        const buffer = Buffer.alloc(size - this.offset);
        await handle.read(buffer, 0, buffer.length, this.offset);
        this.offset = size;
        const lines = (this.partial + buffer.toString('utf8')).split('\n');
        this.partial = lines.pop() ?? '';
        for (const line of lines) {
          if (line) {
            const m = JSON.parse(line) as { id: string; receivedAt: string };
            this.received.set(m.id, Date.parse(m.receivedAt));
          }
        }
      }
    } finally {
      await handle.close();
    }
    return this.received;
  }

  /** Waits until every id is in the inbox. */
  async waitFor(ids: string[], timeoutMs: number): Promise<void> {
    await eventually(
      async () => {
        const received = await this.read();
        const missing = ids.filter((id) => !received.has(id)).length;
        if (missing) {
          throw new Error(`${missing} of ${ids.length} not in the inbox yet`);
        }
      },
      { timeoutMs, intervalMs: 20, what: 'messages in the agent inbox' },
    );
  }
}

export const pidsOf = (p: ServiceProcess | undefined): number[] => (p?.running && p.pid ? [p.pid] : []);

/** The hub's processes as meter probes; agents by a getter, since they restart. */
export function hubProbes(hub: TestHub, agents: () => ServiceProcess[]): ProcessProbe[] {
  return [
    { name: 'gateway', pids: () => pidsOf(hub.gateway) },
    { name: 'registry', pids: () => pidsOf(hub.registry) },
    { name: 'task-router', pids: () => hub.taskRouters.flatMap(pidsOf) },
    { name: 'agents', pids: () => agents().flatMap(pidsOf), children: true },
    Meter.postgres(hub.databaseName),
    { name: 'nats-server', pids: () => (hub.nats.pid ? [hub.nats.pid] : []) },
  ];
}

/**
 * Messages and the machine list, on one hub with one agent: hub → agent latency at a steady
 * rate, a burst to the online agent (per-message counts), messages queued for an offline
 * agent (API throughput) and its catch-up when it returns, and GET /api/machines. Each beside
 * raw JetStream, raw Postgres or bare Fastify on the same servers, in the same run.
 */
export async function benchFleet(cfg: BenchConfig): Promise<Section> {
  const reps = cfg.WAGGLE_BENCH_REPS;
  const concurrency = cfg.WAGGLE_BENCH_CONCURRENCY;
  const rate = cfg.WAGGLE_BENCH_RATE;
  const latencyN = cfg.WAGGLE_BENCH_LATENCY_MESSAGES;
  const burstN = cfg.WAGGLE_BENCH_BURST_MESSAGES;
  const queuedN = cfg.WAGGLE_BENCH_QUEUED_MESSAGES;
  const httpSeconds = cfg.WAGGLE_BENCH_HTTP_SECONDS;
  const hub = await TestHub.start({ heartbeatIntervalMs: 1000, natsMonitoring: true, env: BENCH_ENV });
  const section: Section = {
    title: `Messages and machines: one hub, one agent (${reps} repetitions of each figure; nats-server and Postgres on this machine)`,
    figures: [],
    counts: [],
    notes: [],
  };
  const api = new HttpClient(hub.url, hub.adminToken, concurrency);
  const meters: Meter[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const agent = await hub.startAgent(AGENT);
    const creds = hub.nats.material.hubCreds;
    const credsFile = authMaterialFiles(hub.nats.authDir).hubCreds;
    const meter = await Meter.open({
      postgres: { server: hub.databaseServer, database: hub.databaseName },
      natsMonitorUrl: hub.nats.monitorUrl,
      probes: hubProbes(hub, () => [agent]),
    });
    meters.push(meter);
    const natsMeter = await Meter.open({
      natsMonitorUrl: hub.nats.monitorUrl,
      probes: [{ name: 'nats-server', pids: () => (hub.nats.pid ? [hub.nats.pid] : []) }],
    });
    meters.push(natsMeter);
    const rawPg = await RawPostgres.open(hub.databaseServer);
    cleanups.push(() => rawPg.close());
    const pgMeter = await Meter.open({
      postgres: { server: hub.databaseServer, database: rawPg.database, flush: () => rawPg.flush() },
      probes: [Meter.postgres(rawPg.database)],
    });
    meters.push(pgMeter);
    const tail = new InboxTail(agent.inbox.inboxPath);
    const send = async (body = BODY) =>
      (await api.expect<MessageView>(201, 'POST', '/api/messages', { to: AGENT, body })).id;
    const { child: fastify, line } = await startProgram('bare-fastify', []);
    cleanups.push(() => stopProgram(fastify));
    const bare = new HttpClient(`http://127.0.0.1:${line.split(' ')[1]}`, undefined, concurrency);
    cleanups.push(() => Promise.resolve(bare.close()));
    const bareMeter = await Meter.open({
      probes: [{ name: 'fastify', pids: () => (fastify.pid ? [fastify.pid] : []) }],
    });
    meters.push(bareMeter);

    // The hub's Postgres counters arrive up to 10 s after a window: the baselines, which touch
    // neither its database nor (after the window's NATS reading) its nats-server, run meanwhile.
    const baselines: (() => Promise<void>)[] = [];
    const whileSettling = async (settled: () => Promise<Counts>, into: Counts[]) => {
      const started = performance.now();
      while (baselines.length && performance.now() - started < 6_000) {
        await baselines.shift()!();
      }
      into.push(await settled());
    };
    const latency = {
      waggle: { p50: [] as number[], p99: [] as number[] },
      raw: { p50: [] as number[], p99: [] as number[] },
    };
    const rawJs = { rate: [] as number[], counts: [] as Counts[] };
    const rawPgs = { rate: [] as number[], counts: [] as Counts[] };
    const bareHttp = { rate: [] as number[], counts: [] as Counts[] };
    const rawDrain: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      baselines.push(
        async () => {
          const samples = await rawLatencyAtRate(hub.nats.url, creds, rate, latencyN, BODY.length);
          latency.raw.p50.push(percentile(samples, 50));
          latency.raw.p99.push(percentile(samples, 99));
        },
        async () => {
          await natsMeter.start();
          const seconds = await rawPublish(hub.nats.url, creds, concurrency, queuedN, BODY.length);
          rawJs.counts.push(await natsMeter.stop(queuedN));
          rawJs.rate.push(queuedN / seconds);
        },
        async () => {
          await pgMeter.start();
          const seconds = await rawPg.insert(concurrency, queuedN, BODY);
          rawPgs.counts.push(await pgMeter.stop(queuedN));
          rawPgs.rate.push(queuedN / seconds);
        },
        async () => {
          await bareMeter.start();
          const b = await runFor(concurrency, httpSeconds, async () => {
            await bare.expect(200, 'GET', '/');
          });
          bareHttp.counts.push(await bareMeter.stop(b.count));
          bareHttp.rate.push(b.count / b.seconds);
        },
        async () => {
          const fill = await fillForDrain(hub.nats.url, creds, queuedN, BODY.length);
          const drainStart = performance.now();
          const drain = spawnProgram('jetstream-drain', [
            hub.nats.url,
            credsFile,
            fill.stream,
            fill.durable,
            String(queuedN),
          ]);
          const code = await exited(drain.child);
          rawDrain.push(performance.now() - drainStart);
          await fill.cleanup();
          if (code !== 0) {
            throw new Error(`jetstream-drain exited ${code}: ${drain.output()}`);
          }
        },
      );
    }

    // 1. hub → agent latency at a steady rate (no counts: the windows below start after it has settled).
    for (let rep = 0; rep < reps; rep++) {
      const sent = new Map<string, number>();
      await runAtRate(rate, latencyN, async () => {
        const at = Date.now();
        sent.set(await send(), at);
      });
      await tail.waitFor([...sent.keys()], 30_000);
      const latencies = [...sent].map(([id, at]) => tail.received.get(id)! - at);
      latency.waggle.p50.push(percentile(latencies, 50));
      latency.waggle.p99.push(percentile(latencies, 99));
    }
    await Promise.all([Meter.settle(), baselines.shift()!()]);

    // 2. bursts to the online agent: per-message counts (request, relay, delivery, receipt).
    const online = { rate: [] as number[], counts: [] as Counts[] };
    for (let rep = 0; rep < reps; rep++) {
      await meter.start();
      const ids: string[] = [];
      const seconds = await runConcurrent(concurrency, burstN, async () => {
        ids.push(await send());
      });
      await tail.waitFor(ids, 120_000);
      online.rate.push(burstN / seconds);
      await whileSettling((await meter.end(burstN)).settled, online.counts);
    }

    // 3. GET /api/machines, the same client and concurrency as bare Fastify.
    const machines = { rate: [] as number[], counts: [] as Counts[] };
    for (let rep = 0; rep < reps; rep++) {
      await meter.start();
      const w = await runFor(concurrency, httpSeconds, async () => {
        await api.expect(200, 'GET', '/api/machines');
      });
      machines.rate.push(w.count / w.seconds);
      await whileSettling((await meter.end(w.count)).settled, machines.counts);
    }

    // 4. messages queued for an offline agent (API throughput), then its return: spawn → all in its inbox.
    const queued = { rate: [] as number[], counts: [] as Counts[] };
    const catchUp = { ms: [] as number[], counts: [] as Counts[] };
    for (let rep = 0; rep < reps; rep++) {
      await agent.kill('SIGTERM');
      await meter.start();
      const ids: string[] = [];
      const seconds = await runConcurrent(concurrency, queuedN, async (i) => {
        ids.push(await send(`${i} ${BODY}`));
      });
      queued.rate.push(queuedN / seconds);
      await whileSettling((await meter.end(queuedN)).settled, queued.counts);

      await meter.start();
      const startedAt = performance.now();
      agent.start();
      await tail.waitFor(ids, 600_000);
      catchUp.ms.push(performance.now() - startedAt);
      await whileSettling((await meter.end(queuedN)).settled, catchUp.counts);
    }
    while (baselines.length) {
      await baselines.shift()!();
    }

    const n = (v: number) => v.toLocaleString('en');
    section.figures.push(
      {
        figure: `hub→agent latency p50 at ${rate} msg/s (${latencyN} per rep)`,
        unit: 'ms',
        waggle: summarize(latency.waggle.p50),
        baseline: summarize(latency.raw.p50),
        baselineName: `JetStream publish (acked) → pull consumer → ack, p50 at ${rate}/s`,
      },
      {
        figure: `hub→agent latency p99 at ${rate} msg/s`,
        unit: 'ms',
        waggle: summarize(latency.waggle.p99),
        baseline: summarize(latency.raw.p99),
        baselineName: `same, p99`,
      },
      {
        figure: `API msg/s, ${concurrency} clients, ${n(queuedN)} to an offline agent`,
        unit: '/s',
        waggle: summarize(queued.rate),
        baseline: summarize(rawJs.rate),
        baselineName: `JetStream publish, acks awaited, ${concurrency} concurrent, one connection`,
      },
      {
        figure: `API msg/s, same`,
        unit: '/s',
        waggle: summarize(queued.rate),
        baseline: summarize(rawPgs.rate),
        baselineName: `Postgres single-row INSERT+COMMIT, ${concurrency} callers on a pool of 10`,
      },
      {
        figure: `API msg/s, ${concurrency} clients, ${n(burstN)} to the online agent`,
        unit: '/s',
        waggle: summarize(online.rate),
        baseline: summarize(rawJs.rate),
        baselineName: `JetStream publish, acks awaited, ${concurrency} concurrent`,
      },
      {
        figure: `returning agent: spawn → ${n(queuedN)} queued in its inbox`,
        unit: 's',
        waggle: summarize(catchUp.ms.map((ms) => ms / 1000)),
        baseline: summarize(rawDrain.map((ms) => ms / 1000)),
        baselineName: `fresh Node process: connect, pull ${n(queuedN)} in batches of 500, ack, exit`,
      },
      {
        figure: `GET /api/machines req/s, ${concurrency} clients`,
        unit: '/s',
        waggle: summarize(machines.rate),
        baseline: summarize(bareHttp.rate),
        baselineName: `bare Fastify, one JSON route, own process, same client`,
      },
    );
    section.counts.push(
      { operation: 'POST /api/messages, 1 recipient online (→ its inbox)', reps: online.counts },
      { operation: 'POST /api/messages, recipient offline (queued)', reps: queued.counts },
      { operation: 'queued message delivered on the agent’s return', reps: catchUp.counts },
      { operation: 'baseline: raw JetStream publish, ack awaited', reps: rawJs.counts },
      { operation: 'baseline: raw Postgres INSERT + COMMIT', reps: rawPgs.counts },
      { operation: 'GET /api/machines', reps: machines.counts },
      { operation: 'baseline: bare Fastify GET / (JSON)', reps: bareHttp.counts },
    );
  } finally {
    api.close();
    for (const cleanup of cleanups.reverse()) {
      await cleanup();
    }
    for (const m of meters) {
      await m.close();
    }
    await hub.stop();
  }
  section.notes.push(
    'latency: POST /api/messages sent → the agent stamps receivedAt as it appends the message to its inbox (and fsyncs); both clocks are this machine’s, in whole ms.',
    'catch-up: from spawning the agent process (Node start, NATS connect, hello) to the last message in its inbox; the baseline is a fresh Node process draining the same number of stored messages.',
    'per-op counts are gross: they include what the hub does anyway while idle (see the idle hub figure in the start-up section) and the agent’s heartbeats (1/s here).',
    'postgres CPU is that of the backends serving the database in question (found by their process title); the server’s shared processes (WAL writer, checkpointer) are not counted.',
  );
  return section;
}
