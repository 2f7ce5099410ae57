import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';

import type { GithubBotConfig } from './github-bot.config';
import { GithubHandler } from './github.handler';
import { InfrastructureModule } from './infrastructure/infrastructure.module';
import { IntakeService } from './links/intake.service';
import { LinkRepository } from './links/link.repository';
import { PollerService } from './repos/poller.service';
import { RepoRepository } from './repos/repo.repository';
import { ReposService } from './repos/repos.service';
import { SyncService } from './sync/sync.service';
import { TaskEventsConsumer } from './sync/task-events.consumer';
import { WebhookService } from './webhooks/webhook.service';

@Module({})
export class GithubBotModule {
  static forRoot(config: GithubBotConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: GithubBotModule,
      imports: [InfrastructureModule.forRoot(config, logger, metrics)],
      providers: [RepoRepository, LinkRepository, SyncService, IntakeService, PollerService, ReposService, WebhookService, TaskEventsConsumer, GithubHandler],
    };
  }
}
