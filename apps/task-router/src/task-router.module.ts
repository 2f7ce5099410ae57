import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';
import { HubServiceModule } from '@waggle/service-kit';

import { TaskRouterMetrics } from './infrastructure/task-router.metrics';
import { taskRouterMigrations } from './migrations';
import { TaskRouterConfig } from './task-router.config';
import { TASK_KEYS } from './tasks/task.repository';
import { TasksModule } from './tasks/tasks.module';

@Module({})
export class TaskRouterModule {
  static forRoot(this: void, config: TaskRouterConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: TaskRouterModule,
      imports: [
        HubServiceModule.forRoot({
          name: 'task-router',
          schema: 'task_router',
          config,
          configType: TaskRouterConfig,
          logger,
          metrics,
          migrations: taskRouterMigrations,
          providers: [TaskRouterMetrics],
          idempotentTables: [TASK_KEYS],
        }),
        TasksModule,
      ],
    };
  }
}
