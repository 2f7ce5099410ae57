import { Global, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';

import { hubConnectionProvider } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { databaseProvider } from '@waggle/persistence';

import { MachineEntity } from '../machines/machine.entity';
import { JoinTokenEntity } from '../join-tokens/join-token.entity';
import { registryMigrations } from '../migrations';
import { RegistryConfig } from '../registry.config';
import { RegistryMetrics } from './registry.metrics';
import { RpcServerService } from './rpc-server.service';
import { LOGGER, METRICS, NATS, SCHEMA } from './tokens';
import { TransactionsService } from './transactions.service';

/** Config, logger, metrics, Postgres (migrated) and NATS (streams provisioned) for every feature. */
@Global()
@Module({})
export class InfrastructureModule {
  static forRoot(config: RegistryConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [
        { provide: RegistryConfig, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: METRICS, useValue: metrics },
        databaseProvider({
          url: config.WAGGLE_DATABASE_URL,
          schema: SCHEMA,
          entities: [MachineEntity, JoinTokenEntity],
          migrations: registryMigrations,
          applicationName: 'waggle-registry',
        }),
        hubConnectionProvider(NATS, {
          servers: config.WAGGLE_NATS_URL,
          name: 'registry',
          creds: config.WAGGLE_NATS_CREDS,
          replicas: config.WAGGLE_JETSTREAM_REPLICAS,
          onStatus: (s) => logger.info({ status: s.type }, 'nats connection status'),
        }),
        RegistryMetrics,
        TransactionsService,
        RpcServerService,
      ],
      exports: [RegistryConfig, LOGGER, METRICS, DataSource, NATS, RegistryMetrics, TransactionsService, RpcServerService],
    };
  }
}
