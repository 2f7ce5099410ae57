import { Global, Inject, Injectable, Module } from '@nestjs/common';
import type { DynamicModule, OnApplicationShutdown, Provider, Type } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import type { EntitySchema, MixedList } from 'typeorm';

import { HubServiceConfig } from '@waggle/config';
import { connectHubService, DEFAULT_REQUEST_TIMEOUT_MS, RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import type { DatabaseOptions, IdempotentTable } from '@waggle/persistence';
import { dataSourceOptions, openDatabase } from '@waggle/persistence';

import { HubMetrics } from './hub-metrics';
import { IdempotencyPruneService, IDEMPOTENT_TABLES } from './idempotency-prune.service';
import { JetStreamKeeper } from './jetstream-keeper';
import type { ServiceIdentity } from './tokens';
import { LOGGER, METRICS, NATS, SERVICE } from './tokens';
import { TransactionsService } from './transactions.service';

export interface HubServiceOptions<C extends HubServiceConfig> {
  /** `registry`, `task-router`, …: log `service`, metric prefix, NATS connection name. */
  name: string;
  /** The service's own Postgres schema: its tables, its outbox and its migrations table. */
  schema: string;
  config: C;
  /** The app's config class: features inject the config by it. */
  configType: Type<C>;
  logger: Logger;
  metrics: Registry;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: MixedList<Function | string | EntitySchema>;
  /** Whether the service has an outbox table (its first migration made it with outboxTableSql); default true. */
  outbox?: boolean;
  /** Timeout of every call through the RpcClient. */
  requestTimeoutMs?: number;
  /** The app's own infrastructure (clients, keys), exported to every feature module. */
  providers?: Provider[];
  /** Tables whose rows keep Idempotency-Keys: expired keys are cleared from them (IdempotencyPruneService). */
  idempotentTables?: readonly IdempotentTable[];
}

/** Drains the service's NATS connection last, after everything that publishes has stopped. */
@Injectable()
class NatsDrain implements OnApplicationShutdown {
  constructor(@Inject(NATS) private readonly nc: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.nc.isClosed()) {
      await this.nc.drain().catch(() => undefined);
    }
  }
}

/**
 * Everything a hub service stands on, in one module: config, logger, metrics, Postgres
 * (migrated, through @nestjs/typeorm), NATS (streams provisioned, and again if JetStream loses
 * them), a typed RPC client, the
 * outbox with its relay and prune, and the shared metrics. A service is this module, its
 * feature modules, and `bootstrapHubService` in main.ts.
 */
@Global()
@Module({})
export class HubServiceModule {
  static forRoot<C extends HubServiceConfig>(options: HubServiceOptions<C>): DynamicModule {
    const { config, logger } = options;
    const identity: ServiceIdentity = { name: options.name, schema: options.schema };
    const database: DatabaseOptions = {
      url: config.WAGGLE_DATABASE_URL,
      schema: options.schema,
      entities: options.entities ?? [],
      migrations: options.migrations,
      applicationName: `waggle-${options.name}`,
    };
    const shared: Provider[] = [
      { provide: SERVICE, useValue: identity },
      { provide: options.configType, useValue: config },
      { provide: HubServiceConfig, useValue: config },
      { provide: LOGGER, useValue: logger },
      { provide: METRICS, useValue: options.metrics },
      {
        provide: NATS,
        useFactory: () =>
          connectHubService({
            servers: config.WAGGLE_NATS_URL,
            name: options.name,
            creds: config.WAGGLE_NATS_CREDS,
            replicas: config.WAGGLE_JETSTREAM_REPLICAS,
            // The ping timer ticks every few seconds: routine, so debug; disconnects and reconnects are news.
            onStatus: (s) =>
              logger[s.type === 'pingTimer' ? 'debug' : 'info']({ status: s.type }, 'nats connection status'),
          }),
      },
      {
        provide: RpcClient,
        useFactory: (nc: NatsConnection) => new RpcClient(nc, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
        inject: [NATS],
      },
      HubMetrics,
      JetStreamKeeper,
      ...(options.outbox === false ? [] : [TransactionsService]),
      ...(options.providers ?? []),
    ];
    const prune: Provider[] = options.idempotentTables?.length
      ? [{ provide: IDEMPOTENT_TABLES, useValue: options.idempotentTables }, IdempotencyPruneService]
      : [];
    return {
      module: HubServiceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...dataSourceOptions(database), retryAttempts: 3, retryDelay: 1000 }),
          dataSourceFactory: () => openDatabase(database),
        }),
      ],
      providers: [...shared, ...prune, NatsDrain],
      exports: [...shared.map((p) => ('provide' in p ? p.provide : p)), TypeOrmModule],
    };
  }
}
