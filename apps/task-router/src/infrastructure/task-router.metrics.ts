import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

import { METRICS } from '@waggle/service-kit';

/** Task-router metrics; labels from bounded sets only. */
@Injectable()
export class TaskRouterMetrics {
  readonly transitions: Counter<'state'>;
  readonly logChunks: Counter<'outcome'>;
  readonly staleRequests: Counter<'operation'>;
  readonly helpRequests: Counter<'outcome'>;

  constructor(@Inject(METRICS) registry: Registry) {
    this.transitions = new Counter({ name: 'waggle_task_router_transitions_total', help: 'Task state changes', labelNames: ['state'], registers: [registry] });
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
