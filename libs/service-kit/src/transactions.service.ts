import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';

import { HubServiceConfig } from '@waggle/config';
import type { Logger } from '@waggle/observability';
import { OutboxTransactions } from '@waggle/outbox';

import { HubMetrics } from './hub-metrics';
import { JetStreamKeeper } from './jetstream-keeper';
import type { ServiceIdentity } from './tokens';
import { LOGGER, NATS, SERVICE } from './tokens';

/**
 * The service's transactions with outbox (libs/outbox): state change and announcement commit
 * together; the relay publishes them and the prune deletes what was relayed, from boot to shutdown.
 */
@Injectable()
export class TransactionsService extends OutboxTransactions {
  constructor(
    dataSource: DataSource,
    @Inject(NATS) nc: NatsConnection,
    @Inject(LOGGER) logger: Logger,
    @Inject(SERVICE) service: ServiceIdentity,
    config: HubServiceConfig,
    metrics: HubMetrics,
    keeper: JetStreamKeeper,
  ) {
    super({
      dataSource,
      js: nc.jetstream(),
      schema: service.schema,
      logger: logger.child({ component: 'outbox' }),
      retentionMs: config.WAGGLE_OUTBOX_RETENTION_SECONDS * 1000,
      pruneIntervalMs: config.WAGGLE_OUTBOX_PRUNE_INTERVAL_MS,
      onRelayed: (n) => metrics.outboxRelayed.inc(n),
      onPruned: (n) => metrics.outboxPruned.inc(n),
      // A failed publish may mean JetStream lost a stream: look now, and relay as soon as it is back.
      onPublishFailed: () => void keeper.kick(),
    });
    keeper.onRestored(() => this.relayNow());
  }
}
