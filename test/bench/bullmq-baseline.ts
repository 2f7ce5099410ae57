import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { Queue, QueueEvents } from 'bullmq';

import { eventually } from '@waggle/testing';

import { runAtRate, runConcurrent } from './load';
import type { ProcessProbe } from './meter';
import { findByComm } from './proc';
import { startProgram, stopProgram } from './programs';

/**
 * The task baseline: BullMQ on the local Redis, with `workers` worker processes of
 * `concurrency` slots each that spawn `true` per job, as Waggle's agents do per task.
 * Completion is observed through QueueEvents, as the bench observes Waggle's task events.
 */
export class BullBaseline {
  private readonly completed = new Map<string, number>();
  private readonly failed = new Map<string, string>();
  private workers: ChildProcess[] = [];

  private constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
  ) {}

  static async open(redisUrl: string, workers: number, concurrency: number): Promise<BullBaseline> {
    const url = new URL(redisUrl);
    const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
    const name = `waggle-bench-${randomBytes(4).toString('hex')}`;
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const baseline = new BullBaseline(queue, events);
    events.on('completed', ({ jobId }) => baseline.completed.set(jobId, performance.now()));
    events.on('failed', ({ jobId, failedReason }) => baseline.failed.set(jobId, failedReason));
    try {
      baseline.workers = await Promise.all(
        Array.from(
          { length: workers },
          async () => (await startProgram('bullmq-worker', [redisUrl, name, String(concurrency)])).child,
        ),
      );
    } catch (error) {
      await baseline.close();
      throw error;
    }
    return baseline;
  }

  probes(): ProcessProbe[] {
    const redis = findByComm('redis-server');
    return [
      { name: 'redis-server', pids: () => (redis ? [redis] : []) },
      { name: 'workers', pids: () => this.workers.flatMap((w) => (w.pid ? [w.pid] : [])), children: true },
    ];
  }

  private async add(i: number): Promise<string> {
    const job = await this.queue.add('no-op', { i });
    if (!job.id) {
      throw new Error('BullMQ gave no job id');
    }
    return job.id;
  }

  private async waitFor(ids: string[]): Promise<void> {
    await eventually(
      () => {
        const failed = ids.find((id) => this.failed.has(id));
        if (failed) {
          throw new Error(`BullMQ job ${failed} failed: ${this.failed.get(failed)}`);
        }
        const missing = ids.filter((id) => !this.completed.has(id)).length;
        if (missing) {
          throw new Error(`${missing} of ${ids.length} jobs not completed`);
        }
        return Promise.resolve();
      },
      { timeoutMs: 300_000, intervalMs: 20, what: 'BullMQ jobs completed' },
    );
  }

  /** `n` jobs added by `producers` concurrent producers; jobs per second from the first add to the last completion. */
  async burst(producers: number, n: number): Promise<number> {
    const ids: string[] = [];
    const started = performance.now();
    await runConcurrent(producers, n, async (i) => {
      ids.push(await this.add(i));
    });
    await this.waitFor(ids);
    const last = Math.max(...ids.map((id) => this.completed.get(id)!));
    return n / ((last - started) / 1000);
  }

  /** Jobs added at a steady rate: add called → completion event received, ms per job. */
  async latencies(rate: number, n: number): Promise<number[]> {
    const sent = new Map<string, number>();
    await runAtRate(rate, n, async (i) => {
      const at = performance.now();
      sent.set(await this.add(i), at);
    });
    await this.waitFor([...sent.keys()]);
    return [...sent].map(([id, at]) => this.completed.get(id)! - at);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => stopProgram(w)));
    await this.queue.obliterate({ force: true }).catch(() => undefined);
    await this.events.close();
    await this.queue.close();
  }
}
