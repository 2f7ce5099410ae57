import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';

import { Consumers } from '@waggle/contracts';
import { consumeTaskEvents } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, NATS } from '@waggle/service-kit';

import { GithubBotConfig } from '../github-bot.config';
import { IntakeService } from '../links/intake.service';
import { LinkRepository } from '../links/link.repository';
import { RepoRepository } from '../repos/repo.repository';
import { SyncService } from './sync.service';

/**
 * Task events wake the sync of the issue linked to the task (one durable consumer shared by
 * the replicas). A sweep every few seconds catches whatever an event did not: links whose
 * task was never made, and issues not yet in step.
 */
@Injectable()
export class TaskEventsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly abort = new AbortController();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly links: LinkRepository,
    private readonly repos: RepoRepository,
    private readonly sync: SyncService,
    private readonly intake: IntakeService,
    private readonly config: GithubBotConfig,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap() {
    await consumeTaskEvents(this.nc, {
      durable: Consumers.githubTaskEvents,
      logger: this.logger,
      signal: this.abort.signal,
      onTasks: async (taskIds) => {
        if (!(await this.repos.anyWatched())) {
          return;
        }
        for (const id of await this.links.idsOfTasks(taskIds)) {
          this.sync.kick(id);
        }
      },
    });
    this.timer = setInterval(() => void this.sweep(), this.config.WAGGLE_GITHUB_SYNC_INTERVAL_MS);
  }

  onApplicationShutdown() {
    this.abort.abort();
    clearInterval(this.timer);
  }

  private async sweep() {
    try {
      await this.repos.refreshWatched();
      for (const link of await this.links.findUnfinished()) {
        if (link.task_id || link.error) {
          await this.sync.sync(link.id);
          continue;
        }
        const repo = await this.repos.findByName(link.repo);
        if (repo) {
          await this.intake.resume(link, repo);
        }
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'sweep of unfinished issues failed; next time');
    }
  }
}
