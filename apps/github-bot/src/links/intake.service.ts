import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import type { AgentCliName, CreateTaskRequest, GithubMode } from '@waggle/contracts';
import { AGENT_CLIS, ErrorCode, TaskRouterRpc, WaggleError } from '@waggle/contracts';
import type { GithubClient } from '@waggle/github';
import { splitRepo } from '@waggle/github';
import { RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { event } from '@waggle/outbox';
import { LOGGER, TransactionsService } from '@waggle/service-kit';

import { GithubBotConfig } from '../github-bot.config';
import { GithubBotMetrics } from '../infrastructure/github-bot.metrics';
import { GITHUB } from '../infrastructure/tokens';
import type { RepoRow } from '../repos/repo.repository';
import { SyncService } from '../sync/sync.service';
import type { LinkRow } from './link.repository';
import { LinkRepository } from './link.repository';

/** The parts of a GitHub issue the bot reads (webhook payloads and the REST API agree on them). */
export interface IssueLike {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  html_url: string;
  labels: (string | { name?: string })[];
  pull_request?: unknown;
}

export type IntakeResult = 'linked' | 'already linked' | 'not labelled' | 'not open' | 'a pull request';

const PROMPT_LIMIT = 190_000;
const CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/g;

export const labelNames = (issue: Pick<IssueLike, 'labels'>) =>
  issue.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? '')));

/** Requirements, agent CLI and mode from the repository's defaults and the issue's labels (`needs:gpu`, `agent:claude`, `mode:follow-up`). */
export function taskShape(
  repo: Pick<RepoRow, 'defaults'>,
  labels: string[],
): { capabilities: string[]; cli?: AgentCliName; mode: GithubMode } {
  const capabilities = new Set(repo.defaults.capabilities ?? []);
  let cli = repo.defaults.cli;
  let mode: GithubMode = repo.defaults.mode ?? 'pull_request';
  for (const label of labels.map((l) => l.trim().toLowerCase())) {
    if (label.startsWith('needs:') && label.length > 6) {
      capabilities.add(label.slice(6));
    }
    const agent = label.startsWith('agent:') ? label.slice(6) : undefined;
    const known = AGENT_CLIS.find((name) => name === agent);
    if (known) {
      cli = known;
    }
    if (label === 'mode:follow-up') {
      mode = 'follow_up';
    }
  }
  return { capabilities: [...capabilities], cli, mode };
}

/** The agent's prompt: the issue's title, body and the people's comments, then what to deliver. */
export function issuePrompt(
  repo: string,
  issue: Pick<IssueLike, 'number' | 'title' | 'body'>,
  comments: { user: string; at: string; body: string }[],
  mode: GithubMode,
): string {
  const parts = [
    `GitHub issue #${issue.number} in ${repo}: ${issue.title}`,
    '',
    issue.body?.trim() || '(no description)',
  ];
  if (comments.length) {
    parts.push('', 'Comments:');
    for (const c of comments) {
      parts.push('', `@${c.user} (${c.at}):`, c.body.trim());
    }
  }
  parts.push(
    '',
    mode === 'follow_up'
      ? 'Do not change the code. Write the follow-up issues this one calls for as a JSON array of {"title", "body"} objects to the file named by the environment variable WAGGLE_FOLLOW_UPS_FILE.'
      : 'Make the change this issue asks for in this working tree (a clone of the repository on a fresh branch). Do not push: Waggle commits, pushes and opens the pull request.',
  );
  const text = parts.join('\n');
  return text.length > PROMPT_LIMIT ? `${text.slice(0, PROMPT_LIMIT)}\n[…cut]` : text;
}

/**
 * Turns labelled issues into tasks: exactly one per issue, whether the webhook, the poller or
 * another replica saw it first (a unique row per issue, and an idempotency key on the create).
 */
@Injectable()
export class IntakeService {
  constructor(
    private readonly links: LinkRepository,
    private readonly hub: RpcClient,
    private readonly tx: TransactionsService,
    private readonly sync: SyncService,
    private readonly config: GithubBotConfig,
    private readonly metrics: GithubBotMetrics,
    @Inject(GITHUB) private readonly github: GithubClient | null,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async consider(repo: RepoRow, issue: IssueLike): Promise<IntakeResult> {
    if (issue.pull_request) {
      return 'a pull request';
    }
    if (issue.state !== 'open') {
      return 'not open';
    }
    if (!labelNames(issue).some((l) => l.toLowerCase() === repo.label.toLowerCase())) {
      return 'not labelled';
    }
    const { row, created } = await this.links.insertOrGet({
      id: randomUUID(),
      repo: repo.full_name,
      issue_number: issue.number,
      issue_title: issue.title.replace(CONTROL, ' ').slice(0, 300),
      issue_url: issue.html_url,
    });
    if (!created && (row.task_id || row.error)) {
      return 'already linked';
    }
    await this.makeTask(row, repo, issue);
    return 'linked';
  }

  /** Creates the issue's task (again with the same key, after a failure: still one task). */
  async makeTask(link: LinkRow, repo: RepoRow, issue: IssueLike): Promise<void> {
    const shape = taskShape(repo, labelNames(issue));
    const request: CreateTaskRequest = {
      v: 1,
      title: `${repo.full_name}#${issue.number}: ${issue.title}`.replace(CONTROL, ' ').slice(0, 300),
      kind: 'github-issue',
      input: {
        prompt: issuePrompt(repo.full_name, issue, await this.comments(repo.full_name, issue.number), shape.mode),
        cli: shape.cli,
        github: { repo: repo.full_name, issueNumber: issue.number, issueTitle: link.issue_title, mode: shape.mode },
      },
      target: repo.defaults.target,
      requires: { capabilities: shape.capabilities, labels: repo.defaults.labels ?? [] },
      timeoutSeconds: repo.defaults.timeoutSeconds,
      maxAttempts: this.config.WAGGLE_GITHUB_MAX_ATTEMPTS,
      idempotencyKey: `github-link:${link.id}`,
      createdBy: { kind: 'service', name: 'github-bot' },
    };
    try {
      const task = await this.hub.call(TaskRouterRpc.create, request);
      await this.tx.run(async (manager) => ({
        result: await this.links.update(manager, link.id, { task_id: task.id }),
        outbox: [
          event(randomUUID(), 'github.issue_linked', {
            linkId: link.id,
            repo: link.repo,
            issueNumber: link.issue_number,
            taskId: task.id,
          }),
        ],
      }));
      this.metrics.tasksCreated.inc();
      this.logger.info({ repo: link.repo, issue: link.issue_number, taskId: task.id }, 'issue became a task');
    } catch (error) {
      const refused =
        error instanceof WaggleError && (error.code === ErrorCode.InvalidInput || error.code === ErrorCode.NotFound);
      if (!refused) {
        throw error; // the router is away: the reconciler makes the task later, with the same key
      }
      await this.tx.run(async (manager) => ({
        result: await this.links.update(manager, link.id, { error: `no task could be made: ${error.message}` }),
        outbox: [],
      }));
      this.logger.warn(
        { repo: link.repo, issue: link.issue_number, reason: error.message },
        'issue refused by the task router',
      );
    }
    this.sync.kick(link.id);
  }

  /** A link whose task was never made (the router was away): fetch the issue and try again. */
  async resume(link: LinkRow, repo: RepoRow): Promise<void> {
    if (!this.github) {
      return;
    }
    const issue = await this.github.rest.issues.get({ ...splitRepo(link.repo), issue_number: link.issue_number });
    await this.makeTask(link, repo, issue.data);
  }

  /** The people's comments (the bot's own are left out). */
  private async comments(repo: string, issueNumber: number): Promise<{ user: string; at: string; body: string }[]> {
    if (!this.github) {
      return [];
    }
    const all = await this.github.paginate(this.github.rest.issues.listComments, {
      ...splitRepo(repo),
      issue_number: issueNumber,
      per_page: 100,
    });
    return all
      .filter((c) => !c.body?.includes('<!-- waggle:'))
      .map((c) => ({ user: c.user?.login ?? 'ghost', at: c.created_at, body: c.body ?? '' }));
  }
}
