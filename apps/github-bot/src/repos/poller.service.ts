import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

import type { GithubClient } from '@waggle/github';
import { githubErrorOf, splitRepo } from '@waggle/github';
import type { Logger } from '@waggle/observability';
import { event } from '@waggle/outbox';
import { LOGGER, TransactionsService } from '@waggle/service-kit';

import { GithubBotConfig } from '../github-bot.config';
import { GithubBotMetrics } from '../infrastructure/github-bot.metrics';
import { RateLimitState } from '../infrastructure/rate-limit.state';
import { GITHUB } from '../infrastructure/tokens';
import { IntakeService } from '../links/intake.service';
import type { RepoRow } from './repo.repository';
import { RepoRepository } from './repo.repository';

const PAGE = 100;

/**
 * For hubs GitHub cannot reach: asks each polled repository for its open issues with the
 * trigger label. The first page is a conditional request (If-None-Match), which GitHub
 * answers 304 without charging the rate limit when nothing changed. While a rate limit
 * holds, nothing new is started; Octokit waits out Retry-After / x-ratelimit-reset and goes on.
 */
@Injectable()
export class PollerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly repos: RepoRepository,
    private readonly intake: IntakeService,
    private readonly limits: RateLimitState,
    private readonly tx: TransactionsService,
    private readonly config: GithubBotConfig,
    private readonly metrics: GithubBotMetrics,
    @Inject(GITHUB) private readonly github: GithubClient | null,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    if (!this.github) {
      this.logger.warn('no GitHub token (GITHUB_TOKEN or GITHUB_TOKEN_FILE): the bot polls and posts nothing');
      return;
    }
    this.limits.onLimited((until) => {
      void this.tx
        .run(() =>
          Promise.resolve({
            result: null,
            outbox: [event(randomUUID(), 'github.rate_limited', { repo: null, until: until.toISOString() })],
          }),
        )
        .catch((error: unknown) => this.logger.warn({ err: error }, 'rate-limit event not stored'));
    });
    this.timer = setInterval(() => void this.pollAll(), this.config.WAGGLE_GITHUB_POLL_INTERVAL_MS);
    void this.pollAll();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  /** One pass over the polled repositories, one at a time. */
  async pollAll(): Promise<void> {
    if (this.polling || !this.github || this.limits.limitedUntil()) {
      return;
    }
    this.polling = true;
    try {
      for (const repo of await this.repos.findPolled()) {
        if (this.limits.limitedUntil()) {
          break;
        }
        await this.poll(repo, this.github);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'poll pass failed');
    } finally {
      this.polling = false;
    }
  }

  private async poll(repo: RepoRow, github: GithubClient): Promise<void> {
    const { owner, repo: name } = splitRepo(repo.full_name);
    const query = {
      owner,
      repo: name,
      labels: repo.label,
      state: 'open' as const,
      per_page: PAGE,
      sort: 'created' as const,
      direction: 'asc' as const,
    };
    try {
      const first = await github.rest.issues.listForRepo({
        ...query,
        page: 1,
        headers: repo.etag ? { 'if-none-match': repo.etag } : {},
      });
      const issues = [...first.data];
      for (let page = 2; issues.length === (page - 1) * PAGE; page++) {
        issues.push(...(await github.rest.issues.listForRepo({ ...query, page })).data);
      }
      let linked = 0;
      for (const issue of issues) {
        if ((await this.intake.consider(repo, issue)) === 'linked') {
          linked++;
        }
      }
      await this.repos.polled(repo.full_name, { etag: first.headers.etag ?? null, error: null });
      this.metrics.polls.inc({ result: 'changed' });
      if (linked) {
        this.logger.info({ repo: repo.full_name, linked }, 'poll found new labelled issues');
      }
    } catch (error) {
      const { status, message } = githubErrorOf(error);
      if (status === 304) {
        await this.repos.polled(repo.full_name, { error: null });
        this.metrics.polls.inc({ result: 'unchanged' });
        return;
      }
      this.metrics.polls.inc({ result: 'error' });
      this.logger.warn({ repo: repo.full_name, status, reason: message }, 'poll failed');
      await this.repos.polled(repo.full_name, { error: status ? `GitHub answered ${status}: ${message}` : message });
    }
  }
}
