import { Inject, Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

import { METRICS } from './tokens';

/** Task-router metrics; labels from bounded sets only. */
@Injectable()
export class TaskRouterMetrics {
  readonly transitions: Counter<'state'>;
  readonly logChunks: Counter<'outcome'>;
  readonly outboxRelayed: Counter;
  readonly rpcSeconds: Histogram<'operation' | 'outcome'>;
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
    this.outboxRelayed = new Counter({ name: 'waggle_task_router_outbox_relayed_total', help: 'Outbox rows published', registers: [registry] });
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
    this.rpcSeconds = new Histogram({
      name: 'waggle_task_router_rpc_duration_seconds',
      help: 'Time to answer a request',
      labelNames: ['operation', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  }
}
