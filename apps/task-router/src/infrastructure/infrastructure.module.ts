import { Global, Inject, Injectable, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';

import { QueueGroups } from '@waggle/contracts';
import { hubConnectionProvider, RpcClient, RpcServer } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { OutboxTransactions } from '@waggle/outbox';
import { databaseProvider } from '@waggle/persistence';

import { taskRouterMigrations } from '../migrations';
import { TaskRouterConfig } from '../task-router.config';
import { TaskRouterMetrics } from './task-router.metrics';
import { LOGGER, METRICS, NATS, RPC, SCHEMA } from './tokens';

/** Transactions with outbox (libs/outbox) as a Nest provider. */
@Injectable()
export class TransactionsService extends OutboxTransactions {
  constructor(dataSource: DataSource, @Inject(NATS) nc: NatsConnection, @Inject(LOGGER) logger: Logger, metrics: TaskRouterMetrics) {
    super({ dataSource, js: nc.jetstream(), schema: SCHEMA, logger: logger.child({ component: 'outbox' }), onRelayed: (n) => metrics.outboxRelayed.inc(n) });
  }
}

/** Request handlers (libs/messaging RpcServer) in the task-router's queue group. */
@Injectable()
export class RpcServerService extends RpcServer {
  constructor(@Inject(NATS) nc: NatsConnection, @Inject(LOGGER) logger: Logger, metrics: TaskRouterMetrics) {
    super(nc, { queue: QueueGroups.taskRouter, logger, observe: (operation, outcome, seconds) => metrics.rpcSeconds.observe({ operation, outcome }, seconds) });
  }
}

@Global()
@Module({})
export class InfrastructureModule {
  static forRoot(config: TaskRouterConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [
        { provide: TaskRouterConfig, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: METRICS, useValue: metrics },
        databaseProvider({
          url: config.WAGGLE_DATABASE_URL,
          schema: SCHEMA,
          entities: [],
          migrations: taskRouterMigrations,
          applicationName: 'waggle-task-router',
        }),
        hubConnectionProvider(NATS, {
          servers: config.WAGGLE_NATS_URL,
          name: 'task-router',
          creds: config.WAGGLE_NATS_CREDS,
          replicas: config.WAGGLE_JETSTREAM_REPLICAS,
          onStatus: (s) => logger.info({ status: s.type }, 'nats connection status'),
        }),
        { provide: RPC, useFactory: (nc: NatsConnection) => new RpcClient(nc), inject: [NATS] },
        TaskRouterMetrics,
        TransactionsService,
        RpcServerService,
      ],
      exports: [TaskRouterConfig, LOGGER, METRICS, DataSource, NATS, RPC, TaskRouterMetrics, TransactionsService, RpcServerService],
    };
  }
}
