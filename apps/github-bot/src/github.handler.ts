import { Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';

import { GithubRpc, ListLinksRequest, ListReposRequest, RepoRefRequest, WatchRepoRequest, WebhookDelivery } from '@waggle/contracts';

import { RpcServerService } from './infrastructure/infrastructure.module';
import { LinkRepository } from './links/link.repository';
import { ReposService } from './repos/repos.service';
import { WebhookService } from './webhooks/webhook.service';

@Injectable()
export class GithubHandler implements OnApplicationBootstrap {
  constructor(
    private readonly rpc: RpcServerService,
    private readonly repos: ReposService,
    private readonly links: LinkRepository,
    private readonly webhooks: WebhookService,
  ) {}

  onApplicationBootstrap() {
    this.rpc.handle(GithubRpc.watch, WatchRepoRequest, (req) => this.repos.watch(req));
    this.rpc.handle(GithubRpc.listRepos, ListReposRequest, (req) => this.repos.list(req));
    this.rpc.handle(GithubRpc.unwatch, RepoRefRequest, (req) => this.repos.unwatch(req));
    this.rpc.handle(GithubRpc.listLinks, ListLinksRequest, async (req) => {
      const page = await this.links.list(req);
      return { items: page.items.map((l) => this.links.toView(l)), nextCursor: page.nextCursor };
    });
    this.rpc.handle(GithubRpc.webhook, WebhookDelivery, (req) => this.webhooks.receive(req));
  }
}
