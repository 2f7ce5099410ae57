import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

import type { TaskState } from '@waggle/contracts';
import { METRICS } from '@waggle/service-kit';

/** The states the tasks gauge reports; finished tasks are counted by `transitions` as they finish. */
const LIVE_TASK_STATES = ['queued', 'assigned', 'running'] as const satisfies readonly TaskState[];

/** Task-router metrics; labels from bounded sets only. */
@Injectable()
export class TaskRouterMetrics {
  /** Every state change, by the state entered; the final states are the tasks' outcomes. */
  readonly transitions: Counter<'state'>;
  readonly tasks: Gauge<'state'>;
  readonly queueWait: Histogram;
  readonly logChunks: Counter<'outcome'>;
  readonly staleRequests: Counter<'operation'>;
  readonly helpRequests: Counter<'outcome'>;
  private countTasks?: () => Promise<Partial<Record<TaskState, number>>>;

  /** Where the tasks-by-state gauge reads its counts at scrape time. */
  countTasksWith(source: () => Promise<Partial<Record<TaskState, number>>>): void {
    this.countTasks = source;
  }

  constructor(@Inject(METRICS) registry: Registry) {
    this.transitions = new Counter({
      name: 'waggle_task_router_transitions_total',
      help: 'Task state changes, by the state entered (requeued: back in the queue for another attempt)',
      labelNames: ['state'],
      registers: [registry],
    });
    this.tasks = new Gauge({
      name: 'waggle_task_router_tasks',
      help: 'Tasks waiting or running, by state',
      labelNames: ['state'],
      registers: [registry],
      // Counted when Prometheus scrapes, not on any hot path.
      collect: async () => {
        const counts = (await this.countTasks?.()) ?? {};
        for (const state of LIVE_TASK_STATES) {
          this.tasks.set({ state }, counts[state] ?? 0);
        }
      },
    });
    this.queueWait = new Histogram({
      name: 'waggle_task_router_queue_wait_seconds',
      help: 'Time from a task being created to its first attempt being claimed by a machine',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400],
      registers: [registry],
    });
    this.logChunks = new Counter({
      name: 'waggle_task_router_log_chunks_total',
      help: 'Log chunks accepted or refused',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.staleRequests = new Counter({
      name: 'waggle_task_router_stale_requests_total',
      help: 'Claims, renewals and results refused because their attempt was superseded',
      labelNames: ['operation'],
      registers: [registry],
    });
    this.helpRequests = new Counter({
      name: 'waggle_task_router_help_requests_total',
      help: 'Help requests of running tasks, by whether a peer took them',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }
}
