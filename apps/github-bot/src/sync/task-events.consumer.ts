import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy } from 'nats';
import type { NatsConnection } from 'nats';

import type { TaskEventData } from '@waggle/contracts';
import { Consumers, EventEnvelope, Streams, TASK_EVENTS_FILTER } from '@waggle/contracts';
import { consumeBatches } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

import { GithubBotConfig } from '../github-bot.config';
import { LOGGER, NATS } from '../infrastructure/tokens';
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
    const jsm = await this.nc.jetstreamManager();
    await jsm.consumers.add(Streams.events.name, {
      durable_name: Consumers.githubTaskEvents,
      filter_subject: TASK_EVENTS_FILTER,
      ack_policy: AckPolicy.Explicit,
      // Issues linked before the bot first started have nothing to learn from old events: the sweep covers them.
      deliver_policy: DeliverPolicy.New,
      ack_wait: 30_000_000_000,
      max_deliver: 10,
    });
    void consumeBatches({
      js: this.nc.jetstream(),
      stream: Streams.events.name,
      consumer: Consumers.githubTaskEvents,
      type: EventEnvelope,
      batchSize: 200,
      maxDeliver: 10,
      logger: this.logger,
      signal: this.abort.signal,
      handleBatch: async (items) => {
        const taskIds = [...new Set(items.map((i) => (i.payload.data as Partial<TaskEventData>).taskId).filter((id): id is string => typeof id === 'string'))];
        if (!taskIds.length) return;
        for (const id of await this.links.idsOfTasks(taskIds)) this.sync.kick(id);
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
      for (const id of await this.links.idsUnfinished()) {
        const link = await this.links.findById(id);
        if (!link) continue;
        if (link.task_id || link.error) {
          await this.sync.sync(id);
          continue;
        }
        const repo = await this.repos.findByName(link.repo);
        if (repo) await this.intake.resume(link, repo);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'sweep of unfinished issues failed; next time');
    }
  }
}
