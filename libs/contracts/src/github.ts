import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

import { AGENT_CLIS } from './machines';
import type { AgentCliName } from './machines';
import { PageQuery } from './pagination';
import { Nullable } from './validation';

/** `owner/name`, as GitHub spells repositories. */
export const REPO_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
/** A GitHub label name (no commas: the issues API takes labels comma-separated). */
export const GITHUB_LABEL_PATTERN = /^[^,\x00-\x1F\x7F]{1,50}$/;

/** What a `github-issue` task delivers: a pull request, or follow-up issues (when the task says so). */
export const GITHUB_MODES = ['pull_request', 'follow_up'] as const;
export type GithubMode = (typeof GITHUB_MODES)[number];

/** Where a linked issue stands; each has a status label on the issue. */
export const GITHUB_LINK_STATUSES = ['queued', 'in_progress', 'done', 'failed'] as const;
export type GithubLinkStatus = (typeof GITHUB_LINK_STATUSES)[number];

/** The status labels the bot keeps on an issue, one at a time. */
export const GITHUB_STATUS_LABELS: Record<GithubLinkStatus, string> = {
  queued: 'waggle:queued',
  in_progress: 'waggle:in-progress',
  done: 'waggle:done',
  failed: 'waggle:failed',
};

/** How a task's one outcome was posted. */
export const GITHUB_OUTCOMES = ['pull_request', 'no_changes', 'follow_up', 'failed'] as const;
export type GithubOutcome = (typeof GITHUB_OUTCOMES)[number];

/** Input of a `github-issue` task: which issue, and what to deliver. The prompt travels in `input.prompt`. */
export class GithubTaskInput {
  /**
   * `owner/name` of the repository the issue is in.
   * @example "octo-org/api"
   */
  @Matches(REPO_PATTERN, { message: 'repo must be owner/name' })
  repo!: string;

  /** The issue the work is for (absent for a tracker work item: then `workItem` names it). */
  @ValidateIf((input: GithubTaskInput) => input.workItem === undefined)
  @IsInt()
  @Min(1)
  issueNumber?: number;

  /**
   * A tracker work item instead of an issue (`feature-12`): the branch is named after it and
   * the pull request closes no issue. Only with mode `pull_request`.
   * @example "feature-12"
   */
  @IsOptional()
  @Matches(/^(feature|bug)-[0-9]{1,12}$/, { message: 'workItem must be feature-N or bug-N' })
  workItem?: string;

  /** For the branch name and the pull request's title. */
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  issueTitle!: string;

  @IsIn(GITHUB_MODES)
  mode!: GithubMode;
}

/** One step a `github-issue` attempt ran, for the failure report (argument arrays; never a credential). */
export interface GithubStep {
  step: string;
  command: string;
  exitCode: number | null;
}

/** `structured.github` of a `github-issue` task's result, written by the machine. */
export interface GithubTaskReport {
  outcome: GithubOutcome;
  /** The pull request, opened (or updated, on a retry) after its branch was verified on the remote. */
  pullRequest?: { number: number; url: string; repo: string; head: string; branch: string; sha: string };
  followUps?: { number: number; url: string; title: string }[];
  steps: GithubStep[];
  failedStep?: string;
}

/** What tasks made from a repository's issues get unless the issue's labels say otherwise. */
export class GithubTaskDefaults {
  /**
   * Capability tags every candidate machine must have (`needs:<tag>` labels add to these).
   * @example ["gpu"]
   */
  @IsOptional()
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  capabilities?: string[];

  /**
   * Machine labels every candidate must have.
   * @example ["room=lab"]
   */
  @IsOptional()
  @IsString({ each: true })
  @MaxLength(63, { each: true })
  labels?: string[];

  /** A machine name or id to run every task of this repository. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  target?: string;

  /** Agent CLI (an `agent:<cli>` label wins). */
  @IsOptional()
  @IsIn(AGENT_CLIS)
  cli?: AgentCliName;

  /** `pull_request` (default) or `follow_up` (a `waggle:follow-up` label also says so). */
  @IsOptional()
  @IsIn(GITHUB_MODES)
  mode?: GithubMode;

  /** Seconds a task may run. */
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(7 * 24 * 3600)
  timeoutSeconds?: number;
}

/** POST /api/github/repos: watch a repository, or change how it is watched. */
export class WatchRepoBody {
  /**
   * `owner/name`
   * @example "octo-org/api"
   */
  @Matches(REPO_PATTERN, { message: 'repo must be owner/name' })
  repo!: string;

  /** Issues carrying this label become tasks (default `waggle`). */
  @IsOptional()
  @Matches(GITHUB_LABEL_PATTERN, { message: 'label must be 1-50 characters without commas or control characters' })
  label?: string;

  /** The webhook's secret (at least 16 characters). Absent: one is made and shown once in the reply. */
  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(200)
  webhookSecret?: string;

  /** Poll the repository for labelled issues (for hubs GitHub cannot reach). Default true. */
  @IsOptional()
  @IsBoolean()
  poll?: boolean;

  @IsOptional()
  @ValidateNested()
  @Type(() => GithubTaskDefaults)
  defaults?: GithubTaskDefaults;
}

/** `waggle.rpc.github-bot.repos.watch` */
export class WatchRepoRequest extends WatchRepoBody {
  @IsIn([1])
  v!: 1;
}

export class WatchedRepoView {
  @IsString()
  repo!: string;

  @IsString()
  label!: string;

  @IsBoolean()
  poll!: boolean;

  @ValidateNested()
  @Type(() => GithubTaskDefaults)
  defaults!: GithubTaskDefaults;

  /**
   * Where GitHub should send the `issues` webhook (with the secret, content type application/json).
   * @example "/api/github/webhook"
   */
  @IsString()
  webhookPath!: string;

  @IsString()
  createdAt!: string;

  @Nullable()
  @IsString()
  lastPolledAt!: string | null;

  /** Set while GitHub's rate limit holds the poller back. */
  @Nullable()
  @IsString()
  rateLimitedUntil!: string | null;

  @Nullable()
  @IsString()
  lastError!: string | null;

  /** The latest thing GitHub refused the bot on one of its issues (a token that may not label, say). */
  @Nullable()
  @IsString()
  linkProblem!: string | null;
}

/** The reply to watching: the webhook secret is in it this once, when the hub made it. */
export class WatchedRepoCreated extends WatchedRepoView {
  /** The webhook secret the hub made: shown this once. */
  @IsOptional()
  @IsString()
  webhookSecret?: string;
}

export class ListReposRequest extends PageQuery {}

export class RepoRefRequest {
  @Matches(REPO_PATTERN, { message: 'repo must be owner/name' })
  repo!: string;
}

export class ListLinksRequest extends PageQuery {
  /** @example "octo-org/api" */
  @IsOptional()
  @Matches(REPO_PATTERN, { message: 'repo must be owner/name' })
  repo?: string;

  @IsOptional()
  @IsIn(GITHUB_LINK_STATUSES)
  status?: GithubLinkStatus;
}

export class PullRequestRef {
  @IsInt()
  number!: number;

  @IsString()
  url!: string;
}

export class FollowUpIssue extends PullRequestRef {
  @IsString()
  title!: string;
}

/** An issue, the one task made from it, and what came of it. */
export class GithubLinkView {
  @IsString()
  id!: string;

  @IsString()
  repo!: string;

  @IsInt()
  issueNumber!: number;

  @IsString()
  issueTitle!: string;

  @IsString()
  issueUrl!: string;

  @Nullable()
  @IsString()
  taskId!: string | null;

  @IsIn(GITHUB_LINK_STATUSES)
  status!: GithubLinkStatus;

  @Nullable()
  @IsIn(GITHUB_OUTCOMES)
  outcome!: GithubOutcome | null;

  @Nullable()
  @ValidateNested()
  @Type(() => PullRequestRef)
  pullRequest!: PullRequestRef | null;

  @ValidateNested({ each: true })
  @Type(() => FollowUpIssue)
  followUps!: FollowUpIssue[];

  /** The machine that claimed the task (its latest attempt). */
  @Nullable()
  @IsString()
  claimedBy!: string | null;

  /** Why no task could be made, when none was. */
  @Nullable()
  @IsString()
  error!: string | null;

  /**
   * What GitHub refused the bot on this issue the last time it brought it in step (a token
   * that may not label or comment, say); null when all went through.
   */
  @Nullable()
  @IsString()
  problem!: string | null;

  @IsString()
  createdAt!: string;

  @IsString()
  updatedAt!: string;
}

/** `waggle.rpc.github-bot.webhook`: a webhook as the gateway received it, before anything trusts it. */
export class WebhookDelivery {
  @IsIn([1])
  v!: 1;

  /** X-GitHub-Delivery */
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  deliveryId!: string;

  /** X-GitHub-Event */
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  event!: string;

  /** X-Hub-Signature-256 (absent: refused). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  signature?: string;

  /** The body exactly as received (the signature covers these bytes). */
  @IsString()
  @MaxLength(900_000)
  body!: string;
}

export class WebhookReply {
  /** False for a redelivery already handled. */
  @IsBoolean()
  accepted!: boolean;

  /**
   * What came of it, for GitHub's delivery log.
   * @example "linked"
   */
  @IsString()
  result!: string;
}
