import { connect, credsAuthenticator } from 'nats';
import type { NatsConnection } from 'nats';

import type { TaskView, WaggleEvent } from '@waggle/contracts';
import { eventSubject } from '@waggle/contracts';
import type { AgentProcess } from '@waggle/testing';
import { eventually, TestHub } from '@waggle/testing';

import type { BenchConfig } from './bench.config';
import { BullBaseline } from './bullmq-baseline';
import { HttpClient, runAtRate, runConcurrent } from './load';
import { hubProbes } from './messages';
import type { Counts } from './meter';
import { Meter } from './meter';
import type { Section } from './stats';
import { BENCH_ENV, percentile, summarize } from './stats';

/**
 * Watches task outcomes on the hub's domain events (core NATS, as the gateway's /ws push
 * would): the bench learns of a result without asking the hub, so polling costs nothing.
 */
class TaskWatcher {
  readonly done = new Map<string, number>();
  readonly failed = new Map<string, string>();
  /** Events delivered to this watcher: NATS deliveries the bench caused, subtracted from the counts. */
  received = 0;

  private constructor(private readonly nc: NatsConnection) {}

  static async open(url: string, creds: string): Promise<TaskWatcher> {
    const nc = await connect({
      servers: url,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
      name: 'bench-watcher',
    });
    const watcher = new TaskWatcher(nc);
    const decoder = new TextDecoder();
    const watch = (type: 'task.succeeded' | 'task.failed' | 'task.timed_out' | 'task.cancelled') => {
      nc.subscribe(eventSubject(type), {
        callback: (_err, msg) => {
          watcher.received++;
          const event = JSON.parse(decoder.decode(msg.data)) as WaggleEvent<typeof type>;
          if (type === 'task.succeeded') {
            watcher.done.set(event.data.taskId, performance.now());
          } else {
            watcher.failed.set(event.data.taskId, `${type}: ${event.data.reason ?? ''}`);
          }
        },
      });
    };
    watch('task.succeeded');
    watch('task.failed');
    watch('task.timed_out');
    watch('task.cancelled');
    await nc.flush();
    return watcher;
  }

  async waitFor(ids: string[], timeoutMs = 600_000): Promise<void> {
    await eventually(
      () => {
        const failed = ids.find((id) => this.failed.has(id));
        if (failed) {
          throw new Error(`task ${failed} ended ${this.failed.get(failed)}`);
        }
        const missing = ids.filter((id) => !this.done.has(id)).length;
        if (missing) {
          throw new Error(`${missing} of ${ids.length} tasks not succeeded`);
        }
        return Promise.resolve();
      },
      { timeoutMs, intervalMs: 20, what: 'tasks succeeded' },
    );
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}

/** A hub with `agents` agents of `slots` slots that run `command` tasks. */
async function taskHub(agents: number, slots: number) {
  const hub = await TestHub.start({
    heartbeatIntervalMs: 1000,
    leaseSeconds: 15,
    natsMonitoring: true,
    env: BENCH_ENV,
  });
  try {
    const procs: AgentProcess[] = await Promise.all(
      Array.from({ length: agents }, (_, i) =>
        hub.startAgent(`bench-${agents}x${slots}-${i}`, { allowCommand: true, slots }),
      ),
    );
    const meter = await Meter.open({
      postgres: { server: hub.databaseServer, database: hub.databaseName },
      natsMonitorUrl: hub.nats.monitorUrl,
      probes: hubProbes(hub, () => procs),
    });
    const watcher = await TaskWatcher.open(hub.nats.url, hub.nats.material.hubCreds);
    return { hub, meter, watcher };
  } catch (error) {
    await hub.stop();
    throw error;
  }
}

type TaskHub = Awaited<ReturnType<typeof taskHub>>;

async function createTask(api: HttpClient, i: number): Promise<string> {
  const task = await api.expect<TaskView>(201, 'POST', '/api/tasks', {
    title: `no-op ${i}`,
    kind: 'command',
    input: { program: 'true' },
  });
  return task.id;
}

/**
 * `n` no-op tasks created by concurrent clients: tasks per second (first create → last result
 * event), and the counts once Postgres has reported them (the hub must have been quiet for 10 s).
 */
async function waggleBurst(
  { meter, watcher }: TaskHub,
  api: HttpClient,
  concurrency: number,
  n: number,
): Promise<{ perSecond: number; counts: () => Promise<Counts> }> {
  await meter.start();
  const before = watcher.received;
  const ids: string[] = [];
  const started = performance.now();
  await runConcurrent(concurrency, n, async (i) => {
    ids.push(await createTask(api, i));
  });
  await watcher.waitFor(ids);
  const last = Math.max(...ids.map((id) => watcher.done.get(id)!));
  meter.ownNatsOut = watcher.received - before;
  const { settled } = await meter.end(n);
  return { perSecond: n / ((last - started) / 1000), counts: settled };
}

/**
 * No-op `command` tasks (each spawns `true` on its agent) through the API: throughput of
 * bursts with per-task counts, how the counts hold as the burst grows, and create → result
 * latency at a steady rate; beside BullMQ workers that spawn `true` per job, in the same run.
 */
export async function benchTasks(cfg: BenchConfig): Promise<Section> {
  const reps = cfg.WAGGLE_BENCH_REPS;
  const concurrency = cfg.WAGGLE_BENCH_CONCURRENCY;
  const rate = cfg.WAGGLE_BENCH_RATE;
  const burst = cfg.WAGGLE_BENCH_TASK_BURST;
  const latencyN = cfg.WAGGLE_BENCH_TASK_LATENCY_TASKS;
  const redis = cfg.WAGGLE_BENCH_REDIS_URL;
  const n = (v: number) => v.toLocaleString('en');
  const section: Section = {
    title: `No-op tasks: \`command\` tasks running \`true\`, created through the API by ${concurrency} clients (${reps} repetitions)`,
    figures: [],
    counts: [],
    notes: [],
  };

  for (const [agents, slots] of [
    [2, 8],
    [4, 16],
  ] as const) {
    const shape = `${agents} agents × ${slots} slots`;
    const th = await taskHub(agents, slots);
    const api = new HttpClient(th.hub.url, th.hub.adminToken, concurrency);
    let bull: BullBaseline | undefined;
    let bullMeter: Meter | undefined;
    try {
      const b = await BullBaseline.open(redis, agents, slots);
      bull = b;
      const meter = await Meter.open({ probes: b.probes() });
      bullMeter = meter;
      const waggle = { rate: [] as number[], counts: [] as Counts[] };
      const baseline = { rate: [] as number[], counts: [] as Counts[] };
      const latency = {
        waggle: { p50: [] as number[], p99: [] as number[] },
        bull: { p50: [] as number[], p99: [] as number[] },
      };
      // BullMQ's repetitions run while the hub's Postgres counters arrive (up to 10 s after a window).
      const baselines: (() => Promise<void>)[] = [];
      for (let rep = 0; rep < reps; rep++) {
        baselines.push(async () => {
          await meter.start();
          baseline.rate.push(await b.burst(concurrency, burst));
          baseline.counts.push(await meter.stop(burst));
        });
        if (agents === 2) {
          baselines.push(async () => {
            const samples = await b.latencies(rate, latencyN);
            latency.bull.p50.push(percentile(samples, 50));
            latency.bull.p99.push(percentile(samples, 99));
          });
        }
      }
      const runBaselines = async (forMs: number) => {
        const started = performance.now();
        while (baselines.length && performance.now() - started < forMs) {
          await baselines.shift()!();
        }
      };

      if (agents === 2) {
        // create → result at a steady rate (no counts), beside BullMQ add → completed at the same rate.
        for (let rep = 0; rep < reps; rep++) {
          const sent = new Map<string, number>();
          await runAtRate(rate, latencyN, async (i) => {
            const at = performance.now();
            sent.set(await createTask(api, i), at);
          });
          await th.watcher.waitFor([...sent.keys()]);
          const latencies = [...sent].map(([id, at]) => th.watcher.done.get(id)! - at);
          latency.waggle.p50.push(percentile(latencies, 50));
          latency.waggle.p99.push(percentile(latencies, 99));
        }
      }
      await Promise.all([Meter.settle(), runBaselines(6_000)]);
      for (let rep = 0; rep < reps; rep++) {
        const w = await waggleBurst(th, api, concurrency, burst);
        waggle.rate.push(w.perSecond);
        await runBaselines(6_000);
        waggle.counts.push(await w.counts());
      }
      section.counts.push({ operation: `no-op task, ${shape}, burst of ${n(burst)}`, reps: waggle.counts });
      if (agents === 2) {
        // The cost of a task as the backlog grows: bursts of other sizes, once each.
        for (const size of cfg.WAGGLE_BENCH_TASK_BACKLOGS.map(Number).filter((s) => s !== burst)) {
          const w = await waggleBurst(th, api, concurrency, size);
          await runBaselines(6_000);
          section.counts.push({
            operation: `no-op task, ${shape}, burst of ${n(size)} (once)`,
            reps: [await w.counts()],
          });
        }
      }
      await runBaselines(Infinity);
      section.counts.push({ operation: `baseline: BullMQ job, ${shape}, burst of ${n(burst)}`, reps: baseline.counts });
      section.figures.push({
        figure: `tasks/s, ${shape}, bursts of ${n(burst)}`,
        unit: '/s',
        waggle: summarize(waggle.rate),
        baseline: summarize(baseline.rate),
        baselineName: `BullMQ on Redis, ${agents} worker processes × concurrency ${slots}, spawning \`true\` per job`,
      });
      if (agents === 2) {
        section.figures.push(
          {
            figure: `create → result p50 at ${rate} tasks/s, ${shape}`,
            unit: 'ms',
            waggle: summarize(latency.waggle.p50),
            baseline: summarize(latency.bull.p50),
            baselineName: `BullMQ add → completed event, same workers, ${rate} jobs/s`,
          },
          {
            figure: `create → result p99 at ${rate} tasks/s`,
            unit: 'ms',
            waggle: summarize(latency.waggle.p99),
            baseline: summarize(latency.bull.p99),
            baselineName: 'same, p99',
          },
        );
      }
    } finally {
      api.close();
      await bullMeter?.close();
      await bull?.close();
      await th.meter.close();
      await th.watcher.close();
      await th.hub.stop();
    }
  }
  section.notes.push(
    'tasks/s: first create request → last task.succeeded event received by the bench (a core NATS subscription, whose deliveries are subtracted from NATS out); BullMQ: first add → last completed event (QueueEvents).',
    'latency: create request sent → task.succeeded event received; BullMQ: add called → completed event received.',
    'per-task counts are gross (idle work and heartbeats included); "agents tasks" is the CPU of the spawned `true` processes, reaped by the agent (likewise "workers tasks" for BullMQ).',
    'BullMQ CPU counts redis-server and the worker processes; the producer (this bench process) is not counted, as the API clients are not for Waggle.',
  );
  return section;
}
