import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';
import { HubServiceModule } from '@waggle/service-kit';

import { VaultMetrics } from './infrastructure/vault.metrics';
import { vaultMigrations } from './migrations';
import { SecretsModule } from './secrets/secrets.module';
import { VaultConfig } from './vault.config';

@Module({})
export class VaultModule {
  static forRoot(this: void, config: VaultConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: VaultModule,
      imports: [
        HubServiceModule.forRoot({
          name: 'vault',
          schema: 'vault',
          config,
          configType: VaultConfig,
          logger,
          metrics,
          migrations: vaultMigrations,
          outbox: false,
          providers: [VaultMetrics],
        }),
        SecretsModule,
      ],
    };
  }
}
