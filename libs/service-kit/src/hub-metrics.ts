import { Inject, Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

import type { ServiceIdentity } from './tokens';
import { metricPrefix, METRICS, SERVICE } from './tokens';

/** Metrics every hub service has, under one name scheme: `waggle_<service>_rpc_duration_seconds`, … */
@Injectable()
export class HubMetrics {
  readonly rpcSeconds: Histogram<'operation' | 'outcome'>;
  readonly outboxRelayed: Counter;
  readonly outboxPruned: Counter;

  constructor(@Inject(METRICS) registry: Registry, @Inject(SERVICE) service: ServiceIdentity) {
    const prefix = metricPrefix(service.name);
    const registers = [registry];
    this.rpcSeconds = new Histogram({
      name: `${prefix}rpc_duration_seconds`,
      help: 'Time to answer a NATS request or handle an event, by operation and outcome',
      labelNames: ['operation', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
      registers,
    });
    this.outboxRelayed = new Counter({
      name: `${prefix}outbox_relayed_total`,
      help: 'Outbox rows published to JetStream',
      registers,
    });
    this.outboxPruned = new Counter({
      name: `${prefix}outbox_pruned_total`,
      help: 'Relayed outbox rows deleted after the retention period',
      registers,
    });
  }
}
