import { Controller } from '@nestjs/common';

import {
  GithubRpc,
  ListLinksRequest,
  ListReposRequest,
  RepoRefRequest,
  StatsRequest,
  WatchRepoRequest,
  WebhookDelivery,
} from '@waggle/contracts';
import { HandleRpc } from '@waggle/service-kit';

import { LinkRepository } from './links/link.repository';
import { ReposService } from './repos/repos.service';
import { WebhookService } from './webhooks/webhook.service';

@Controller()
export class GithubHandler {
  constructor(
    private readonly repos: ReposService,
    private readonly links: LinkRepository,
    private readonly webhooks: WebhookService,
  ) {}

  @HandleRpc(GithubRpc.watch)
  watch(req: WatchRepoRequest) {
    return this.repos.watch(req);
  }

  @HandleRpc(GithubRpc.listRepos)
  listRepos(req: ListReposRequest) {
    return this.repos.list(req);
  }

  @HandleRpc(GithubRpc.unwatch)
  unwatch(req: RepoRefRequest) {
    return this.repos.unwatch(req);
  }

  @HandleRpc(GithubRpc.listLinks)
  async listLinks(req: ListLinksRequest) {
    const page = await this.links.list(req);
    return { items: page.items.map((l) => this.links.toView(l)), nextCursor: page.nextCursor };
  }

  @HandleRpc(GithubRpc.stats)
  async stats(_req: StatsRequest) {
    return { openLinks: await this.links.countUnfinished() };
  }

  @HandleRpc(GithubRpc.webhook)
  webhook(req: WebhookDelivery) {
    return this.webhooks.receive(req);
  }
}
