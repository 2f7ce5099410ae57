import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy } from 'nats';
import type { NatsConnection } from 'nats';

import type { EventMap } from '@waggle/contracts';
import { Consumers, EventEnvelope, eventSubject, GithubRpc, Streams } from '@waggle/contracts';
import { consumeDurable, RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, NATS, TransactionsService } from '@waggle/service-kit';

import { ItemRepository } from '../items/item.repository';
import { ItemsService, refOf } from '../items/items.service';
import { ProjectRepository } from '../projects/project.repository';
import { remoteKey } from '../projects/remote-key';
import { AssignService } from './assign.service';

const BOT = 'github-bot';

/**
 * An issue the GitHub bot took for a project's repository becomes a bug of the project,
 * linked to the issue and to the issue's task; from then on the task moves it like any
 * assigned item (fixed with the pull request, or back to open with the failure report).
 */
@Injectable()
export class GithubLinksConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly abort = new AbortController();

  constructor(
    private readonly items: ItemRepository,
    private readonly itemsService: ItemsService,
    private readonly projects: ProjectRepository,
    private readonly assign: AssignService,
    private readonly tx: TransactionsService,
    private readonly hub: RpcClient,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap() {
    await consumeDurable(
      this.nc,
      {
        stream: Streams.events.name,
        durable: Consumers.trackerGithubLinks,
        filter: eventSubject('github.issue_linked'),
        deliverPolicy: DeliverPolicy.All,
        maxDeliver: 10,
      },
      {
        type: EventEnvelope,
        batchSize: 50,
        logger: this.logger,
        signal: this.abort.signal,
        handleBatch: async (batch) => {
          for (const item of batch) {
            await this.take(item.payload.data as EventMap['github.issue_linked']);
          }
        },
      },
    );
  }

  onApplicationShutdown() {
    this.abort.abort();
  }

  private async take(link: EventMap['github.issue_linked']): Promise<void> {
    if (typeof link.repo !== 'string' || typeof link.issueNumber !== 'number' || typeof link.taskId !== 'string') {
      return;
    }
    const project = await this.projects.findByRemoteKey(remoteKey(link.repo));
    if (!project) {
      return; // a repository the bot watches for no project
    }
    const links = await this.hub.call(GithubRpc.listLinks, { repo: link.repo, limit: 500 }, 10_000);
    const found = links.items.find((l) => l.id === link.linkId);
    const title = (found?.issueTitle ?? `${link.repo}#${link.issueNumber}`).slice(0, 300);
    const url = found?.issueUrl ?? `https://github.com/${link.repo}/issues/${link.issueNumber}`;
    const created = await this.tx.run(async (manager) => {
      const row = await this.items.insertFromIssue(manager, {
        id: randomUUID(),
        project_id: project.id,
        title,
        body: `Reported on GitHub: ${url}`,
        task_id: link.taskId,
        github_repo: link.repo,
        github_issue_number: link.issueNumber,
        github_issue_url: url,
        created_by: BOT,
      });
      if (!row) {
        return { result: null, outbox: [] };
      }
      await this.items.addHistory(manager, row.id, BOT, [
        { field: 'created', from: null, to: 'open' },
        { field: 'github_issue', from: null, to: url },
        { field: 'task', from: null, to: `${link.taskId} queued` },
        { field: 'status', from: 'open', to: 'in_progress' },
      ]);
      return { result: row, outbox: [this.itemsService.changed(row)] };
    });
    if (created) {
      this.logger.info({ ref: refOf(created), repo: link.repo, issue: link.issueNumber }, 'GitHub issue became a bug');
      await this.assign.sync(created.id);
    }
  }
}
