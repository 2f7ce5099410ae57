import { Global, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';

import { hubConnectionProvider, RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { databaseProvider } from '@waggle/persistence';

import { ApiTokenEntity } from '../auth/api-token.entity';
import { GatewayConfig } from '../gateway.config';
import { gatewayMigrations } from '../migrations';
import { LOGGER, METRICS, NATS, RPC, SCHEMA } from './tokens';

@Global()
@Module({})
export class InfrastructureModule {
  static forRoot(config: GatewayConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [
        { provide: GatewayConfig, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: METRICS, useValue: metrics },
        databaseProvider({
          url: config.WAGGLE_DATABASE_URL,
          schema: SCHEMA,
          entities: [ApiTokenEntity],
          migrations: gatewayMigrations,
          applicationName: 'waggle-gateway',
        }),
        hubConnectionProvider(NATS, {
          servers: config.WAGGLE_NATS_URL,
          name: 'gateway',
          creds: config.WAGGLE_NATS_CREDS,
          replicas: config.WAGGLE_JETSTREAM_REPLICAS,
          onStatus: (s) => logger.info({ status: s.type }, 'nats connection status'),
        }),
        { provide: RPC, useFactory: (nc: NatsConnection) => new RpcClient(nc, config.WAGGLE_REQUEST_TIMEOUT_MS), inject: [NATS] },
      ],
      exports: [GatewayConfig, LOGGER, METRICS, DataSource, NATS, RPC],
    };
  }
}
