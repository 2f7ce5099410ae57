import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';
import { HubServiceModule } from '@waggle/service-kit';

import { LlmMetrics } from './infrastructure/llm.metrics';
import { CHAIN } from './infrastructure/tokens';
import { chainOrExit, LlmFailoverConfig } from './llm-failover.config';
import { LlmModule } from './llm/llm.module';
import { llmFailoverMigrations } from './migrations';

@Module({})
export class LlmFailoverModule {
  static forRoot(this: void, config: LlmFailoverConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: LlmFailoverModule,
      imports: [
        HubServiceModule.forRoot({
          name: 'llm-failover',
          schema: 'llm',
          config,
          configType: LlmFailoverConfig,
          logger,
          metrics,
          migrations: llmFailoverMigrations,
          providers: [{ provide: CHAIN, useValue: chainOrExit(config, logger) }, LlmMetrics],
        }),
        LlmModule,
      ],
    };
  }
}
