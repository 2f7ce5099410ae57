import { Injectable } from '@nestjs/common';

import type {
  DeleteProjectRequest,
  LabelledIssuesRequest,
  ProjectRefRequest,
  WatchedRepoCreated,
  WatchedRepoView,
} from '@waggle/contracts';
import { GithubRpc, WaggleError } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import type { ProjectRow } from './project.repository';
import { ProjectsService } from './projects.service';
import { githubRepoOf } from './remote-key';

/**
 * "Agents work on labelled issues" of a project: that is the GitHub bot's watch of the
 * project's repository, asked for and read from the bot, so the setting lives in one place.
 * The issues it takes come back as bugs of the project (GithubLinksConsumer).
 */
@Injectable()
export class LabelledIssuesService {
  constructor(
    private readonly projects: ProjectsService,
    private readonly hub: RpcClient,
  ) {}

  async watch(req: LabelledIssuesRequest): Promise<WatchedRepoCreated> {
    const project = await this.projects.find(req.project);
    const { placement } = project;
    return this.hub.call(
      GithubRpc.watch,
      {
        v: 1,
        repo: this.repoOf(project),
        label: req.label,
        poll: req.poll,
        webhookSecret: req.webhookSecret,
        defaults: {
          capabilities: placement.capabilities,
          labels: placement.labels,
          target: placement.target,
          cli: placement.cli,
        },
      },
      15_000,
    );
  }

  async get(req: ProjectRefRequest): Promise<WatchedRepoView> {
    const project = await this.projects.find(req.project);
    const repo = this.repoOf(project).toLowerCase();
    let cursor: string | undefined;
    do {
      const page = await this.hub.call(GithubRpc.listRepos, { limit: 500, cursor }, 10_000);
      const found = page.items.find((r) => r.repo.toLowerCase() === repo);
      if (found) {
        return found;
      }
      cursor = page.nextCursor;
    } while (cursor);
    throw WaggleError.notFound('labelled issues of project', project.key);
  }

  async unwatch(req: DeleteProjectRequest): Promise<WatchedRepoView> {
    const project = await this.projects.find(req.project);
    const watched = await this.get(req);
    return this.hub.call(GithubRpc.unwatch, { repo: watched.repo || this.repoOf(project) }, 10_000);
  }

  private repoOf(project: ProjectRow): string {
    const repo = githubRepoOf(project.repository);
    if (!repo) {
      throw WaggleError.invalid(`project "${project.key}" has no GitHub repository: its issues cannot go to agents`, [
        { field: 'repository', errors: ['the project needs a GitHub owner/name repository'] },
      ]);
    }
    return repo;
  }
}
