import { Global, Inject, Injectable, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';

import { QueueGroups } from '@waggle/contracts';
import { hubConnectionProvider, RpcServer } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { OutboxTransactions } from '@waggle/outbox';
import { databaseProvider } from '@waggle/persistence';

import type { ProviderChain } from '../llm-failover.config';
import { LlmFailoverConfig } from '../llm-failover.config';
import { llmFailoverMigrations } from '../migrations';
import { LlmMetrics } from './llm.metrics';
import { CHAIN, LOGGER, METRICS, NATS, SCHEMA } from './tokens';

/** Transactions with outbox (libs/outbox) as a Nest provider. */
@Injectable()
export class TransactionsService extends OutboxTransactions {
  constructor(dataSource: DataSource, @Inject(NATS) nc: NatsConnection, @Inject(LOGGER) logger: Logger, metrics: LlmMetrics) {
    super({ dataSource, js: nc.jetstream(), schema: SCHEMA, logger: logger.child({ component: 'outbox' }), onRelayed: (n) => metrics.outboxRelayed.inc(n) });
  }
}

/** Request handlers in llm-failover's queue group. */
@Injectable()
export class RpcServerService extends RpcServer {
  constructor(@Inject(NATS) nc: NatsConnection, @Inject(LOGGER) logger: Logger, metrics: LlmMetrics) {
    super(nc, {
      queue: QueueGroups.llmFailover,
      logger,
      observe: (operation, outcome, seconds) => metrics.rpcSeconds.observe({ operation, outcome }, seconds),
    });
  }
}

@Global()
@Module({})
export class InfrastructureModule {
  static forRoot(config: LlmFailoverConfig, chain: ProviderChain, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [
        { provide: LlmFailoverConfig, useValue: config },
        { provide: CHAIN, useValue: chain },
        { provide: LOGGER, useValue: logger },
        { provide: METRICS, useValue: metrics },
        databaseProvider({
          url: config.WAGGLE_DATABASE_URL,
          schema: SCHEMA,
          entities: [],
          migrations: llmFailoverMigrations,
          applicationName: 'waggle-llm-failover',
        }),
        hubConnectionProvider(NATS, {
          servers: config.WAGGLE_NATS_URL,
          name: 'llm-failover',
          creds: config.WAGGLE_NATS_CREDS,
          replicas: config.WAGGLE_JETSTREAM_REPLICAS,
          onStatus: (s) => logger.info({ status: s.type }, 'nats connection status'),
        }),
        LlmMetrics,
        TransactionsService,
        RpcServerService,
      ],
      exports: [LlmFailoverConfig, CHAIN, LOGGER, METRICS, DataSource, NATS, LlmMetrics, TransactionsService, RpcServerService],
    };
  }
}
