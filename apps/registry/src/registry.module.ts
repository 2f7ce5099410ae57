import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';

import { InfrastructureModule } from './infrastructure/infrastructure.module';
import { JoinTokensModule } from './join-tokens/join-tokens.module';
import { MachinesModule } from './machines/machines.module';
import { MessagesModule } from './messages/messages.module';
import { PresenceModule } from './presence/presence.module';
import type { RegistryConfig } from './registry.config';

@Module({})
export class RegistryModule {
  static forRoot(config: RegistryConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: RegistryModule,
      imports: [InfrastructureModule.forRoot(config, logger, metrics), JoinTokensModule, MachinesModule, MessagesModule, PresenceModule],
    };
  }
}
