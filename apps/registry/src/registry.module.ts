import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';
import { HubServiceModule } from '@waggle/service-kit';

import { RegistryMetrics } from './infrastructure/registry.metrics';
import { JoinTokenEntity } from './join-tokens/join-token.entity';
import { JOIN_TOKEN_KEYS } from './join-tokens/join-token.repository';
import { JoinTokensModule } from './join-tokens/join-tokens.module';
import { MachineEntity } from './machines/machine.entity';
import { MACHINE_KEYS } from './machines/machine.repository';
import { MachinesModule } from './machines/machines.module';
import { MESSAGE_KEYS } from './messages/message.repository';
import { MessagesModule } from './messages/messages.module';
import { registryMigrations } from './migrations';
import { PresenceModule } from './presence/presence.module';
import { RegistryConfig } from './registry.config';
import { StatsModule } from './stats/stats.module';

@Module({})
export class RegistryModule {
  static forRoot(this: void, config: RegistryConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: RegistryModule,
      imports: [
        HubServiceModule.forRoot({
          name: 'registry',
          schema: 'registry',
          config,
          configType: RegistryConfig,
          logger,
          metrics,
          entities: [MachineEntity, JoinTokenEntity],
          migrations: registryMigrations,
          providers: [RegistryMetrics],
          idempotentTables: [MESSAGE_KEYS, JOIN_TOKEN_KEYS, MACHINE_KEYS],
        }),
        JoinTokensModule,
        MachinesModule,
        MessagesModule,
        PresenceModule,
        StatsModule,
      ],
    };
  }
}
