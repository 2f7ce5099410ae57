import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import type { GithubLinkStatus, TaskView } from '@waggle/contracts';
import { ErrorCode, FINAL_TASK_STATES, GITHUB_STATUS_LABELS, TaskRouterRpc, WaggleError } from '@waggle/contracts';
import type { GithubClient } from '@waggle/github';
import { githubErrorOf, splitRepo } from '@waggle/github';
import { RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { event } from '@waggle/outbox';
import type { OutboxEntry } from '@waggle/outbox';
import { LOGGER, TransactionsService } from '@waggle/service-kit';

import { botToken, GithubBotConfig } from '../github-bot.config';
import { GithubBotMetrics } from '../infrastructure/github-bot.metrics';
import { GITHUB } from '../infrastructure/tokens';
import type { LinkChanges, LinkRow } from '../links/link.repository';
import { LinkRepository } from '../links/link.repository';
import { claimedText, commentMarker, failureText, reportOf, successText } from './outcome-text';

/** One pass over an issue: the client, and what GitHub refused on the way (kept with the link). */
interface SyncPass {
  github: GithubClient;
  problems: string[];
}

/** GitHub's answers that trying again will not change: the token may not, or the thing is gone. */
const REFUSALS = new Set([401, 403, 404, 410, 422]);

/** Short, and renewed while the sync runs: a replica that dies mid-sync holds the issue only this long. */
const LEASE_SECONDS = 15;

/**
 * Keeps an issue in step with its task: the "claimed by" comment, the status label, and the
 * one outcome (pull request link, no-change note, follow-ups or failure report). It works
 * from the task's current state, not from the event that woke it, so it can run any number
 * of times, in any order, on any replica: what is already on the issue is not posted again.
 */
@Injectable()
export class SyncService {
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();

  constructor(
    private readonly links: LinkRepository,
    private readonly hub: RpcClient,
    private readonly tx: TransactionsService,
    private readonly config: GithubBotConfig,
    private readonly metrics: GithubBotMetrics,
    @Inject(GITHUB) private readonly github: GithubClient | null,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Brings the issue in step now, in the background. */
  kick(linkId: string): void {
    void this.sync(linkId).catch((error: unknown) =>
      this.logger.warn({ err: error, linkId }, 'issue sync failed; it will be tried again'),
    );
  }

  async sync(linkId: string): Promise<void> {
    if (!this.github) {
      return;
    }
    if (this.running.has(linkId)) {
      this.again.add(linkId); // this process is at it: one more pass when it is done
      return;
    }
    this.running.add(linkId);
    const renewal = setInterval(
      () => void this.links.extend(linkId, LEASE_SECONDS).catch(() => undefined),
      (LEASE_SECONDS * 1000) / 3,
    );
    try {
      let link = await this.links.lease(linkId, LEASE_SECONDS);
      while (link) {
        try {
          await this.syncOnce(link, this.github);
        } finally {
          const again = await this.links.release(linkId, LEASE_SECONDS);
          link = again ? await this.links.findById(linkId) : null;
        }
      }
    } finally {
      clearInterval(renewal);
      this.running.delete(linkId);
      if (this.again.delete(linkId)) {
        this.kick(linkId);
      }
    }
  }

  /**
   * One pass, then what GitHub refused on the way saved with the link (and told on /ws) when
   * it changed. A refusal does not stop the pass: the pull request, the outcome and the
   * status are recorded even where a label or comment could not be put on the issue.
   */
  private async syncOnce(start: LinkRow, github: GithubClient): Promise<void> {
    const pass: SyncPass = { github, problems: [] };
    const link = await this.bringInStep(start, pass);
    const problem = pass.problems.length ? [...new Set(pass.problems)].join('; ') : null;
    if (problem !== link.problem) {
      if (problem) {
        this.logger.warn(
          { linkId: link.id, repo: link.repo, issue: link.issue_number, problem },
          'GitHub refused the bot',
        );
      }
      await this.save(link, { problem }, [event(randomUUID(), 'github.problem', { ...this.eventData(link), problem })]);
    }
  }

  /** Runs `call` against GitHub; a refusal (401, 403, 404, 410, 422) becomes a problem of the pass and undefined. */
  private async refusable<T>(pass: SyncPass, what: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      const { status, message } = githubErrorOf(error);
      if (status === null || !REFUSALS.has(status)) {
        throw error; // a network error, 5xx or rate limit: the pass is tried again
      }
      const hint = status === 403 || status === 404 ? " (the bot's token needs Issues: write on the repository)" : '';
      pass.problems.push(`GitHub refused to ${what}: ${status} ${message}${hint}`);
      return undefined;
    }
  }

  private async bringInStep(start: LinkRow, pass: SyncPass): Promise<LinkRow> {
    let link = start;
    if (!link.task_id) {
      if (link.error && link.outcome_for !== 'refused') {
        link = await this.postOutcome(
          link,
          pass,
          null,
          'failed',
          failureText(link.id, null, link.error, this.secrets()),
          'refused',
        );
        link = await this.setStatus(link, pass, 'failed', { final: true });
      }
      return link;
    }
    let task: TaskView;
    try {
      task = await this.hub.call(TaskRouterRpc.get, { taskId: link.task_id });
    } catch (error) {
      if (error instanceof WaggleError && error.code === ErrorCode.NotFound) {
        this.logger.error({ linkId: link.id, taskId: link.task_id }, 'the task of an issue is gone');
        return this.save(link, { final: true, error: 'the task is gone' }, []);
      }
      throw error;
    }
    // The issue tells the whole story in order, even when the task moved on faster than the bot:
    // the queued label first, then who claimed it, in progress once it ran, then how it ended.
    if (!link.label_applied && link.status === 'queued') {
      link = await this.setStatus(link, pass, 'queued', {});
    }
    const started = task.attempts.filter((a) => a.startedAt);
    const latest = started.at(-1);
    if (latest && latest.attempt > link.claimed_attempt) {
      link = await this.postClaimed(link, pass, task, latest.machineName, latest.attempt);
    }
    if (!FINAL_TASK_STATES.has(task.state)) {
      return this.setStatus(link, pass, task.state === 'running' ? 'in_progress' : 'queued', { final: false });
    }
    if (latest && link.status === 'queued') {
      link = await this.setStatus(link, pass, 'in_progress', {});
    }
    const signature = `${task.state}:${task.attempt}`;
    if (link.outcome_for !== signature) {
      link = await this.postTaskOutcome(link, pass, task, signature);
    }
    return this.setStatus(link, pass, link.outcome === 'failed' ? 'failed' : 'done', { final: true });
  }

  private async postTaskOutcome(link: LinkRow, pass: SyncPass, task: TaskView, signature: string): Promise<LinkRow> {
    const report = reportOf(task);
    let reason: string;
    if (task.state === 'succeeded' && report) {
      const text = successText(link.id, task, report);
      const missing = report.pullRequest ? await this.branchMissing(pass.github, report.pullRequest) : null;
      if (text && !missing) {
        return this.postOutcome(link, pass, task, text.outcome, text.body, signature, {
          pull_request: report.pullRequest ? { number: report.pullRequest.number, url: report.pullRequest.url } : null,
          follow_ups: report.followUps ?? [],
        });
      }
      reason = missing ?? 'the machine reported success without saying what it delivered';
    } else {
      reason =
        task.result?.error ??
        (task.state === 'succeeded'
          ? 'the machine did not report a GitHub outcome'
          : `the task ended ${task.state.replace('_', ' ')}`);
    }
    return this.postOutcome(link, pass, task, 'failed', failureText(link.id, task, reason, this.secrets()), signature);
  }

  /** The pull request's branch must be on GitHub (at the reported commit) before its link is posted. */
  private async branchMissing(
    github: GithubClient,
    pr: { repo: string; head: string; branch: string; sha: string },
  ): Promise<string | null> {
    const { owner: upstreamOwner, repo: name } = splitRepo(pr.repo);
    const colon = pr.head.indexOf(':');
    const owner = colon >= 0 ? pr.head.slice(0, colon) : upstreamOwner;
    try {
      const branch = await github.rest.repos.getBranch({ owner, repo: name, branch: pr.branch });
      if (branch.data.commit.sha !== pr.sha) {
        this.logger.info(
          { branch: pr.branch, expected: pr.sha, found: branch.data.commit.sha },
          'branch moved on since',
        );
      }
      return null;
    } catch (error) {
      const { status } = githubErrorOf(error);
      if (status === 404) {
        return `the pull request's branch ${owner}:${pr.branch} is not on GitHub`;
      }
      throw error;
    }
  }

  private async postClaimed(
    link: LinkRow,
    pass: SyncPass,
    task: TaskView,
    machine: string,
    attempt: number,
  ): Promise<LinkRow> {
    const comment = await this.upsertComment(
      link,
      pass,
      'claimed',
      link.claimed_comment_id,
      claimedText(link.id, machine, attempt, task.id),
    );
    return this.save(
      link,
      { claimed_by: machine, claimed_attempt: attempt, claimed_comment_id: comment?.id ?? link.claimed_comment_id },
      [
        event(randomUUID(), 'github.issue_claimed', {
          ...this.eventData(link),
          machine,
          commentUrl: comment?.url ?? link.issue_url,
        }),
      ],
    );
  }

  private async postOutcome(
    link: LinkRow,
    pass: SyncPass,
    task: TaskView | null,
    outcome: NonNullable<LinkRow['outcome']>,
    body: string,
    signature: string,
    extra: LinkChanges = {},
  ): Promise<LinkRow> {
    // Recorded whether or not the comment could be posted: the pull request exists either way.
    const comment = await this.upsertComment(link, pass, 'outcome', link.outcome_comment_id, body);
    this.metrics.outcomes.inc({ outcome });
    this.logger.info(
      { linkId: link.id, repo: link.repo, issue: link.issue_number, taskId: task?.id, outcome },
      'outcome posted',
    );
    const pullRequestUrl = extra.pull_request?.url;
    return this.save(
      link,
      {
        outcome,
        outcome_for: signature,
        outcome_comment_id: comment?.id ?? link.outcome_comment_id,
        pull_request: null,
        follow_ups: [],
        ...extra,
      },
      [
        event(randomUUID(), 'github.outcome_posted', {
          ...this.eventData(link),
          outcome,
          url: comment?.url ?? pullRequestUrl ?? link.issue_url,
          ...(pullRequestUrl ? { pullRequestUrl } : {}),
        }),
      ],
    );
  }

  /** Puts the status label on the issue and takes the previous one off; the status is kept even if GitHub refuses the label. */
  private async setStatus(
    link: LinkRow,
    pass: SyncPass,
    status: GithubLinkStatus,
    changes: LinkChanges,
  ): Promise<LinkRow> {
    const label = GITHUB_STATUS_LABELS[status];
    const issue = this.issueRef(link);
    if (link.label_applied === label && link.status === status) {
      return changes.final !== undefined && changes.final !== link.final ? this.save(link, changes, []) : link;
    }
    const labelled = await this.refusable(pass, `label ${link.repo}#${link.issue_number} "${label}"`, () =>
      pass.github.rest.issues.addLabels({ ...issue, labels: [label] }),
    );
    if (labelled && link.label_applied && link.label_applied !== label) {
      await pass.github.rest.issues.removeLabel({ ...issue, name: link.label_applied }).catch((error: unknown) => {
        if (githubErrorOf(error).status !== 404) {
          throw error; // someone took it off already
        }
      });
    }
    if (link.status === status && !labelled) {
      return changes.final !== undefined && changes.final !== link.final ? this.save(link, changes, []) : link;
    }
    return this.save(link, { ...changes, status, label_applied: labelled ? label : link.label_applied }, [
      event(randomUUID(), 'github.status_changed', { ...this.eventData(link), status }),
    ]);
  }

  /** Edits the bot's comment of this kind if it exists (by id, else by its marker), or posts it; undefined if GitHub refused. */
  private async upsertComment(
    link: LinkRow,
    pass: SyncPass,
    kind: 'claimed' | 'outcome',
    knownId: string | null,
    body: string,
  ): Promise<{ id: string; url: string } | undefined> {
    return this.refusable(pass, `comment on ${link.repo}#${link.issue_number}`, () =>
      this.writeComment(link, pass.github, kind, knownId, body),
    );
  }

  private async writeComment(
    link: LinkRow,
    github: GithubClient,
    kind: 'claimed' | 'outcome',
    knownId: string | null,
    body: string,
  ): Promise<{ id: string; url: string }> {
    const issue = this.issueRef(link);
    let id = knownId;
    if (!id) {
      const marker = commentMarker(kind, link.id);
      const comments = await github.paginate(github.rest.issues.listComments, { ...issue, per_page: 100 });
      const found = comments.find((c) => c.body?.includes(marker));
      if (found) {
        id = String(found.id);
      }
    }
    if (id) {
      try {
        const edited = await github.rest.issues.updateComment({
          owner: issue.owner,
          repo: issue.repo,
          comment_id: Number(id),
          body,
        });
        return { id: String(edited.data.id), url: edited.data.html_url };
      } catch (error) {
        if (githubErrorOf(error).status !== 404) {
          throw error; // deleted by a person: post it again
        }
      }
    }
    const created = await github.rest.issues.createComment({ ...issue, body });
    return { id: String(created.data.id), url: created.data.html_url };
  }

  private save(link: LinkRow, changes: LinkChanges, outbox: OutboxEntry[]): Promise<LinkRow> {
    return this.tx.run(async (manager) => ({ result: await this.links.update(manager, link.id, changes), outbox }));
  }

  private issueRef(link: LinkRow) {
    return { ...splitRepo(link.repo), issue_number: link.issue_number };
  }

  private eventData(link: LinkRow) {
    return { linkId: link.id, repo: link.repo, issueNumber: link.issue_number, taskId: link.task_id };
  }

  private secrets(): string[] {
    const token = botToken(this.config);
    return token ? [token] : [];
  }
}
