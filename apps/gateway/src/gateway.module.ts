import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';
import { HubServiceModule } from '@waggle/service-kit';

import { ActivityModule } from './activity/activity.module';
import { ApiTokenEntity } from './auth/api-token.entity';
import { AuthModule } from './auth/auth.module';
import { SessionEntity } from './auth/session.entity';
import { UserEntity } from './auth/user.entity';
import { DashboardModule } from './dashboard/dashboard.module';
import { ErrorGroupsModule } from './error-groups/error-groups.module';
import { EventsModule } from './events/events.module';
import { GatewayConfig } from './gateway.config';
import { GithubModule } from './github/github.module';
import { HealthModule } from './health/health.module';
import { LlmModule } from './llm/llm.module';
import { MachinesModule } from './machines/machines.module';
import { MessagesModule } from './messages/messages.module';
import { gatewayMigrations } from './migrations';
import { OverviewModule } from './overview/overview.module';
import { SessionsModule } from './sessions/sessions.module';
import { SecretsModule } from './secrets/secrets.module';
import { TasksModule } from './tasks/tasks.module';
import { TrackerModule } from './tracker/tracker.module';

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        HubServiceModule.forRoot({
          name: 'gateway',
          schema: 'gateway',
          config,
          configType: GatewayConfig,
          logger,
          metrics,
          entities: [ApiTokenEntity, UserEntity, SessionEntity],
          migrations: gatewayMigrations,
          outbox: false,
          requestTimeoutMs: config.WAGGLE_REQUEST_TIMEOUT_MS,
        }),
        AuthModule,
        HealthModule,
        MachinesModule,
        MessagesModule,
        TasksModule,
        GithubModule,
        LlmModule,
        OverviewModule,
        SessionsModule,
        TrackerModule,
        ErrorGroupsModule,
        ActivityModule,
        SecretsModule,
        EventsModule,
        DashboardModule,
      ],
    };
  }
}
