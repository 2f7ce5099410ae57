import { randomBytes } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import type {
  ListReposRequest,
  Page,
  RepoRefRequest,
  WatchedRepoCreated,
  WatchedRepoView,
  WatchRepoRequest,
} from '@waggle/contracts';
import { ErrorCode, WaggleError } from '@waggle/contracts';
import type { GithubClient } from '@waggle/github';
import { githubErrorOf, splitRepo } from '@waggle/github';
import type { Logger } from '@waggle/observability';
import { LOGGER } from '@waggle/service-kit';

import { RateLimitState } from '../infrastructure/rate-limit.state';
import { SecretBox } from '../infrastructure/secret-box';
import { GITHUB } from '../infrastructure/tokens';
import { LinkRepository } from '../links/link.repository';
import { PollerService } from './poller.service';
import type { RepoRow } from './repo.repository';
import { RepoRepository } from './repo.repository';

export const WEBHOOK_PATH = '/api/github/webhook';
const DEFAULT_LABEL = 'waggle';

/** Watching repositories: which label makes tasks, how, and the webhook's secret (sealed at rest, shown once when made). */
@Injectable()
export class ReposService {
  constructor(
    private readonly repos: RepoRepository,
    private readonly links: LinkRepository,
    private readonly poller: PollerService,
    private readonly box: SecretBox,
    private readonly limits: RateLimitState,
    @Inject(GITHUB) private readonly github: GithubClient | null,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async watch(request: WatchRepoRequest): Promise<WatchedRepoCreated> {
    if (!this.github) {
      throw new WaggleError(
        ErrorCode.Unavailable,
        'the GitHub bot has no token: set GITHUB_TOKEN or GITHUB_TOKEN_FILE for the github-bot service',
      );
    }
    const repo = splitRepo(request.repo);
    let fullName: string;
    try {
      fullName = (await this.github.rest.repos.get(repo)).data.full_name;
    } catch (error) {
      const { status, message } = githubErrorOf(error);
      if (status === 404) {
        throw WaggleError.notFound('GitHub repository (as the bot token sees it)', request.repo);
      }
      throw new WaggleError(ErrorCode.Unavailable, `GitHub could not be asked about ${request.repo}: ${message}`);
    }
    const existing = await this.repos.findByName(fullName);
    const made = !request.webhookSecret && !existing ? randomBytes(24).toString('base64url') : undefined;
    const secret = request.webhookSecret ?? made;
    const row = await this.repos.upsert({
      full_name: fullName,
      label: request.label ?? existing?.label ?? DEFAULT_LABEL,
      poll: request.poll ?? existing?.poll ?? true,
      defaults: request.defaults ?? existing?.defaults ?? {},
      webhook_secret: secret ? this.box.seal(secret) : null,
    });
    this.logger.info(
      { repo: fullName, label: row.label, poll: row.poll },
      existing ? 'repository watch changed' : 'repository watched',
    );
    if (row.poll) {
      void this.poller.pollAll();
    }
    return { ...this.view(row), ...(made ? { webhookSecret: made } : {}) };
  }

  async list(query: ListReposRequest): Promise<Page<WatchedRepoView>> {
    const page = await this.repos.list(query.limit, query.cursor);
    const problems = await this.links.latestProblems(page.items.map((r) => r.full_name));
    return {
      items: page.items.map((r) => this.view(r, problems.get(r.full_name) ?? null)),
      nextCursor: page.nextCursor,
    };
  }

  async unwatch(request: RepoRefRequest): Promise<WatchedRepoView> {
    const row = await this.repos.remove(request.repo);
    if (!row) {
      throw WaggleError.notFound('watched repository', request.repo);
    }
    return this.view(row);
  }

  view(row: RepoRow, linkProblem: string | null = null): WatchedRepoView {
    return {
      repo: row.full_name,
      label: row.label,
      poll: row.poll,
      defaults: row.defaults,
      webhookPath: WEBHOOK_PATH,
      createdAt: row.created_at.toISOString(),
      lastPolledAt: row.last_polled_at?.toISOString() ?? null,
      rateLimitedUntil: this.limits.limitedUntil()?.toISOString() ?? null,
      lastError: row.last_error,
      linkProblem,
    };
  }
}
