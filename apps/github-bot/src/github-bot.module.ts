import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';
import { HubServiceModule } from '@waggle/service-kit';

import { GithubBotConfig } from './github-bot.config';
import { GithubHandler } from './github.handler';
import { GithubBotMetrics } from './infrastructure/github-bot.metrics';
import { githubClientProvider } from './infrastructure/github-client.provider';
import { RateLimitState } from './infrastructure/rate-limit.state';
import { SecretBox } from './infrastructure/secret-box';
import { IntakeService } from './links/intake.service';
import { LinkRepository } from './links/link.repository';
import { githubBotMigrations } from './migrations';
import { PollerService } from './repos/poller.service';
import { RepoRepository } from './repos/repo.repository';
import { ReposService } from './repos/repos.service';
import { SyncService } from './sync/sync.service';
import { TaskEventsConsumer } from './sync/task-events.consumer';
import { WebhookService } from './webhooks/webhook.service';

@Module({})
export class GithubBotModule {
  static forRoot(this: void, config: GithubBotConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: GithubBotModule,
      imports: [
        HubServiceModule.forRoot({
          name: 'github-bot',
          schema: 'github',
          config,
          configType: GithubBotConfig,
          logger,
          metrics,
          migrations: githubBotMigrations,
          providers: [
            { provide: SecretBox, useValue: new SecretBox(config.WAGGLE_GITHUB_SECRETS_KEY) },
            RateLimitState,
            GithubBotMetrics,
            githubClientProvider,
          ],
        }),
      ],
      controllers: [GithubHandler],
      providers: [
        RepoRepository,
        LinkRepository,
        SyncService,
        IntakeService,
        PollerService,
        ReposService,
        WebhookService,
        TaskEventsConsumer,
      ],
    };
  }
}
