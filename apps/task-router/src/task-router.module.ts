import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';

import { InfrastructureModule } from './infrastructure/infrastructure.module';
import type { TaskRouterConfig } from './task-router.config';
import { TasksModule } from './tasks/tasks.module';

@Module({})
export class TaskRouterModule {
  static forRoot(config: TaskRouterConfig, logger: Logger, metrics: Registry): DynamicModule {
    return { module: TaskRouterModule, imports: [InfrastructureModule.forRoot(config, logger, metrics), TasksModule] };
  }
}
