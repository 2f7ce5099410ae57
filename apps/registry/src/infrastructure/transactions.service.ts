import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';

import type { Logger } from '@waggle/observability';
import { OutboxTransactions } from '@waggle/outbox';

import { RegistryMetrics } from './registry.metrics';
import { LOGGER, NATS, SCHEMA } from './tokens';

/** The registry's transactions with outbox (libs/outbox), as a Nest provider. */
@Injectable()
export class TransactionsService extends OutboxTransactions {
  constructor(dataSource: DataSource, @Inject(NATS) nc: NatsConnection, @Inject(LOGGER) logger: Logger, metrics: RegistryMetrics) {
    super({ dataSource, js: nc.jetstream(), schema: SCHEMA, logger: logger.child({ component: 'outbox' }), onRelayed: (n) => metrics.outboxRelayed.inc(n) });
  }
}
