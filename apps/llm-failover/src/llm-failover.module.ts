import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';

import { InfrastructureModule } from './infrastructure/infrastructure.module';
import type { LlmFailoverConfig, ProviderChain } from './llm-failover.config';
import { LlmModule } from './llm/llm.module';

@Module({})
export class LlmFailoverModule {
  static forRoot(config: LlmFailoverConfig, chain: ProviderChain, logger: Logger, metrics: Registry): DynamicModule {
    return { module: LlmFailoverModule, imports: [InfrastructureModule.forRoot(config, chain, logger, metrics), LlmModule] };
  }
}
