import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type { OutboxEntry } from '@waggle/outbox';
import { addToOutbox, OutboxRelay } from '@waggle/outbox';
import type { Logger } from '@waggle/observability';

import { RegistryMetrics } from './registry.metrics';
import { LOGGER, NATS, SCHEMA } from './tokens';

export interface TransactionResult<T> {
  result: T;
  /** Messages announcing the change; committed with it, relayed after. */
  outbox: OutboxEntry[];
}

/** Runs a state change and its outbox rows in one transaction, then wakes the relay. */
@Injectable()
export class TransactionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly relay: OutboxRelay;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(NATS) nc: NatsConnection,
    @Inject(LOGGER) logger: Logger,
    metrics: RegistryMetrics,
  ) {
    this.relay = new OutboxRelay({
      dataSource,
      js: nc.jetstream(),
      schema: SCHEMA,
      logger: logger.child({ component: 'outbox' }),
      onRelayed: (n) => metrics.outboxRelayed.inc(n),
    });
  }

  onApplicationBootstrap() {
    this.relay.start();
  }

  async onApplicationShutdown() {
    await this.relay.stop();
  }

  async run<T>(work: (manager: EntityManager) => Promise<TransactionResult<T>>): Promise<T> {
    const { result, outbox } = await this.dataSource.transaction(async (manager) => {
      const done = await work(manager);
      await addToOutbox(manager, SCHEMA, done.outbox);
      return done;
    });
    if (outbox.length) this.relay.kick();
    return result;
  }

  /** Removes relayed rows older than a day (the stream dedups within minutes). */
  prune() {
    return this.relay.prune(24 * 3600 * 1000);
  }
}
