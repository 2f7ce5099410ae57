import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';
import { HubServiceModule } from '@waggle/service-kit';

import { AssignmentsModule } from './assignments/assignments.module';
import { sessionsMigrations } from './migrations';
import { SessionsConfig } from './sessions.config';
import { SessionsModule } from './sessions/sessions.module';

@Module({})
export class SessionsServiceModule {
  static forRoot(this: void, config: SessionsConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: SessionsServiceModule,
      imports: [
        HubServiceModule.forRoot({
          name: 'sessions',
          schema: 'sessions',
          config,
          configType: SessionsConfig,
          logger,
          metrics,
          migrations: sessionsMigrations,
        }),
        SessionsModule,
        AssignmentsModule,
      ],
    };
  }
}
