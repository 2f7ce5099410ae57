import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';

import { AuthModule } from './auth/auth.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { EventsModule } from './events/events.module';
import { GithubModule } from './github/github.module';
import type { GatewayConfig } from './gateway.config';
import { HealthModule } from './health/health.module';
import { InfrastructureModule } from './infrastructure/infrastructure.module';
import { LlmModule } from './llm/llm.module';
import { MachinesModule } from './machines/machines.module';
import { MessagesModule } from './messages/messages.module';
import { TasksModule } from './tasks/tasks.module';

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        InfrastructureModule.forRoot(config, logger, metrics),
        AuthModule,
        HealthModule,
        MachinesModule,
        MessagesModule,
        TasksModule,
        GithubModule,
        LlmModule,
        EventsModule,
        DashboardModule,
      ],
    };
  }
}
