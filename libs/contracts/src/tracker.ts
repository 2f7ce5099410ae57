import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

import type { WatchedRepoCreated, WatchedRepoView } from './github';
import { GITHUB_LABEL_PATTERN } from './github';
import { AGENT_CLIS, LABEL_PATTERN } from './machines';
import type { AgentCliName } from './machines';
import { Sender, TEXT_PATTERN } from './messages';
import type { Page } from './pagination';
import { PageQuery } from './pagination';
import type { TaskState } from './tasks';
import { TaskRequirements } from './tasks';
import type { Constructor } from './validation';
import { Nullable } from './validation';

/** A project's short key: lower-case letters, digits and dashes (`waggle projects show api`). */
export const PROJECT_KEY_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
/** A git remote: a GitHub `owner/name`, or any URL git clones (https, ssh, git, file) or `user@host:path`. */
export const REPOSITORY_PATTERN =
  /^(?:[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}|(?:https?|ssh|git|file):\/\/[^\s\x00-\x1F]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s\x00-\x1F]+)$/;

/** A feature or bug in a path or request: its id, or its ref (`feature-12`). */
export const ITEM_REF_PATTERN =
  /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|(?:feature|bug)-[0-9]{1,12})$/;

export const WORK_ITEM_KINDS = ['feature', 'bug'] as const;
export type WorkItemKind = (typeof WORK_ITEM_KINDS)[number];

export const FEATURE_STATUSES = ['proposed', 'planned', 'in_progress', 'review', 'done'] as const;
export type FeatureStatus = (typeof FEATURE_STATUSES)[number];
export const BUG_STATUSES = ['open', 'triaged', 'in_progress', 'fixed', 'verified', 'wont_fix'] as const;
export type BugStatus = (typeof BUG_STATUSES)[number];
export type WorkItemStatus = FeatureStatus | BugStatus;

/** Where a person may move an item from each status (assigning and the task's outcome move it too). */
export const FEATURE_TRANSITIONS: Readonly<Record<FeatureStatus, readonly FeatureStatus[]>> = {
  proposed: ['planned', 'in_progress'],
  planned: ['proposed', 'in_progress'],
  in_progress: ['planned', 'review'],
  review: ['in_progress', 'done'],
  done: ['in_progress'],
};
export const BUG_TRANSITIONS: Readonly<Record<BugStatus, readonly BugStatus[]>> = {
  open: ['triaged', 'in_progress', 'wont_fix'],
  triaged: ['open', 'in_progress', 'wont_fix'],
  in_progress: ['triaged', 'fixed', 'wont_fix'],
  fixed: ['in_progress', 'verified'],
  verified: ['open'],
  wont_fix: ['open'],
};
/** Statuses in which an item counts as done for its milestone's progress. */
export const CLOSED_STATUSES: ReadonlySet<WorkItemStatus> = new Set(['done', 'verified', 'wont_fix']);

export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const SEVERITIES = ['minor', 'major', 'critical', 'blocker'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const MILESTONE_STATES = ['open', 'closed'] as const;
export type MilestoneState = (typeof MILESTONE_STATES)[number];

const TITLE_RULES = [
  IsString(),
  MinLength(1),
  MaxLength(300),
  Matches(TEXT_PATTERN, { message: 'title must not contain control characters' }),
];
const title = (): PropertyDecorator => (target, key) => TITLE_RULES.forEach((rule) => rule(target, key));

/** How tasks made from a project's items are placed, unless the assign says otherwise: a task's requirements, plus a target and an agent CLI. */
export class ProjectPlacement extends TaskRequirements {
  /** A machine name or id. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  target?: string;

  @IsOptional()
  @IsIn(AGENT_CLIS)
  cli?: AgentCliName;
}

/** POST /api/projects */
export class CreateProjectBody {
  /**
   * Short key, unique (default: made from the name).
   * @example "api"
   */
  @IsOptional()
  @Matches(PROJECT_KEY_PATTERN, { message: 'key must be 1-40 lower-case letters, digits and dashes' })
  key?: string;

  /** @example "Public API" */
  @title()
  name!: string;

  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  description?: string;

  /**
   * A GitHub `owner/name`, or any git remote URL.
   * @example "acme/api"
   */
  @IsOptional()
  @MaxLength(500)
  @Matches(REPOSITORY_PATTERN, { message: 'repository must be owner/name or a git remote URL' })
  repository?: string;

  /** @example "main" */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[^\s\x00-\x1F~^:?*[\\]+$/, { message: 'defaultBranch must be a branch name' })
  defaultBranch?: string;

  /** Where the project is checked out on machines (relative to a source folder, or absolute). */
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  @Matches(TEXT_PATTERN, { message: 'sourcePath must not contain control characters' })
  sourcePath?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => ProjectPlacement)
  placement?: ProjectPlacement;
}

/** PATCH /api/projects/:id: only the fields given change. */
export class UpdateProjectBody {
  @IsOptional()
  @title()
  name?: string;

  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  description?: string;

  @IsOptional()
  @MaxLength(500)
  @Matches(REPOSITORY_PATTERN, { message: 'repository must be owner/name or a git remote URL' })
  repository?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[^\s\x00-\x1F~^:?*[\\]+$/, { message: 'defaultBranch must be a branch name' })
  defaultBranch?: string;

  @IsOptional()
  @IsString()
  @MaxLength(4096)
  @Matches(TEXT_PATTERN, { message: 'sourcePath must not contain control characters' })
  sourcePath?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => ProjectPlacement)
  placement?: ProjectPlacement;
}

export class ProjectView {
  @IsUUID()
  id!: string;

  @IsString()
  key!: string;

  @IsString()
  name!: string;

  @IsString()
  description!: string;

  @Nullable()
  @IsString()
  repository!: string | null;

  @IsString()
  defaultBranch!: string;

  @Nullable()
  @IsString()
  sourcePath!: string | null;

  @ValidateNested()
  @Type(() => ProjectPlacement)
  placement!: ProjectPlacement;

  /** Open features and bugs. */
  @IsInt()
  openItems!: number;

  @IsString()
  createdAt!: string;

  @IsString()
  updatedAt!: string;
}

export class ListProjectsQuery extends PageQuery {
  /** Words in the key, name, description or repository. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;
}

/** POST /api/projects/:id/milestones */
export class CreateMilestoneBody {
  @title()
  title!: string;

  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  description?: string;

  /**
   * @example "2026-12-31"
   */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'targetDate must be YYYY-MM-DD' })
  targetDate?: string;

  /** Place in the project's order, from 0 (default: last). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10_000)
  position?: number;
}

/** PATCH /api/milestones/:id */
export class UpdateMilestoneBody {
  @IsOptional()
  @title()
  title?: string;

  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  description?: string;

  /** YYYY-MM-DD, or null to clear. */
  @IsOptional()
  @Nullable()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'targetDate must be YYYY-MM-DD' })
  targetDate?: string | null;

  @IsOptional()
  @IsIn(MILESTONE_STATES)
  state?: MilestoneState;

  /** Move to this place in the project's order (the others shift). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10_000)
  position?: number;
}

export class MilestoneProgress {
  @IsInt()
  total!: number;

  /** Items done, verified or won't fix. */
  @IsInt()
  closed!: number;

  /** 0..100 */
  @IsInt()
  percent!: number;
}

export class MilestoneView {
  @IsUUID()
  id!: string;

  @IsUUID()
  projectId!: string;

  @IsString()
  title!: string;

  @IsString()
  description!: string;

  @Nullable()
  @IsString()
  targetDate!: string | null;

  @IsIn(MILESTONE_STATES)
  state!: MilestoneState;

  @IsInt()
  position!: number;

  @ValidateNested()
  @Type(() => MilestoneProgress)
  progress!: MilestoneProgress;

  @IsString()
  createdAt!: string;

  @IsString()
  updatedAt!: string;
}

/** POST /api/projects/:id/features */
export class CreateFeatureBody {
  @title()
  title!: string;

  /** The spec, in Markdown. */
  @IsOptional()
  @IsString()
  @MaxLength(100_000)
  spec?: string;

  /** Default `proposed`. */
  @IsOptional()
  @IsIn(FEATURE_STATUSES)
  status?: FeatureStatus;

  /** Default `medium`. */
  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: Priority;

  /** A milestone of the same project. */
  @IsOptional()
  @IsUUID()
  milestoneId?: string;
}

/** PATCH /api/features/:id: the status moves only along the allowed transitions. */
export class UpdateFeatureBody {
  @IsOptional()
  @title()
  title?: string;

  @IsOptional()
  @IsString()
  @MaxLength(100_000)
  spec?: string;

  @IsOptional()
  @IsIn(FEATURE_STATUSES)
  status?: FeatureStatus;

  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: Priority;

  /** A milestone of the same project, or null to take it out of its milestone. */
  @IsOptional()
  @Nullable()
  @IsUUID()
  milestoneId?: string | null;
}

/** POST /api/projects/:id/bugs */
export class CreateBugBody {
  @title()
  title!: string;

  /** What happens, in Markdown. */
  @IsOptional()
  @IsString()
  @MaxLength(100_000)
  description?: string;

  /** Steps to reproduce. */
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  steps?: string;

  /** Where it happens (versions, OS, browser). */
  @IsOptional()
  @IsString()
  @MaxLength(5_000)
  environment?: string;

  /** Default `major`. */
  @IsOptional()
  @IsIn(SEVERITIES)
  severity?: Severity;

  /** Default `open`. */
  @IsOptional()
  @IsIn(BUG_STATUSES)
  status?: BugStatus;

  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: Priority;

  @IsOptional()
  @IsUUID()
  milestoneId?: string;
}

/** PATCH /api/bugs/:id */
export class UpdateBugBody {
  @IsOptional()
  @title()
  title?: string;

  @IsOptional()
  @IsString()
  @MaxLength(100_000)
  description?: string;

  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  steps?: string;

  @IsOptional()
  @IsString()
  @MaxLength(5_000)
  environment?: string;

  @IsOptional()
  @IsIn(SEVERITIES)
  severity?: Severity;

  @IsOptional()
  @IsIn(BUG_STATUSES)
  status?: BugStatus;

  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: Priority;

  @IsOptional()
  @Nullable()
  @IsUUID()
  milestoneId?: string | null;
}

export class PullRequestLink {
  @IsInt()
  number!: number;

  @IsString()
  url!: string;
}

export class GithubIssueRef {
  /** @example "acme/api" */
  @IsString()
  repo!: string;

  @IsInt()
  number!: number;

  @IsString()
  url!: string;
}

/** A feature or a bug. Fields of the other kind are null. */
export class WorkItemView {
  @IsUUID()
  id!: string;

  @IsIn(WORK_ITEM_KINDS)
  kind!: WorkItemKind;

  /**
   * `feature-12`, `bug-3`: unique in the hub.
   * @example "feature-12"
   */
  @IsString()
  ref!: string;

  @IsUUID()
  projectId!: string;

  @IsString()
  title!: string;

  /** The feature's spec or the bug's description (Markdown). */
  @IsString()
  body!: string;

  @IsString()
  status!: WorkItemStatus;

  @IsIn(PRIORITIES)
  priority!: Priority;

  @Nullable()
  @IsIn(SEVERITIES)
  severity!: Severity | null;

  @Nullable()
  @IsString()
  steps!: string | null;

  @Nullable()
  @IsString()
  environment!: string | null;

  @Nullable()
  @IsUUID()
  milestoneId!: string | null;

  /** The task of the latest assignment. */
  @Nullable()
  @IsUUID()
  taskId!: string | null;

  @Nullable()
  @IsString()
  taskState!: TaskState | 'creating' | null;

  @Nullable()
  @ValidateNested()
  @Type(() => PullRequestLink)
  pullRequest!: PullRequestLink | null;

  /** Why the latest assignment failed. */
  @Nullable()
  @IsString()
  lastFailure!: string | null;

  /** The GitHub issue this item came from (an issue the GitHub bot took for the project). */
  @Nullable()
  @ValidateNested()
  @Type(() => GithubIssueRef)
  githubIssue!: GithubIssueRef | null;

  @IsString()
  createdBy!: string;

  @IsString()
  createdAt!: string;

  @IsString()
  updatedAt!: string;
}

export class ListWorkItemsQuery extends PageQuery {
  /** Only items in this status (a feature or bug status). */
  @IsOptional()
  @IsIn([...new Set([...FEATURE_STATUSES, ...BUG_STATUSES])])
  status?: WorkItemStatus;

  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: Priority;

  @IsOptional()
  @IsIn(SEVERITIES)
  severity?: Severity;

  /** Only items of this milestone; `none` for items without one. */
  @IsOptional()
  @Matches(/^(none|[0-9a-fA-F-]{36})$/, { message: 'milestone must be a milestone id or none' })
  milestone?: string;

  /** Words in the title or body. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  /** Only the item made from this GitHub issue number of the project's repository. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  issue?: number;
}

/** POST /api/features/:id/comments */
export class CreateCommentBody {
  /** Markdown. */
  @IsString()
  @MinLength(1)
  @MaxLength(50_000)
  body!: string;
}

export class CommentView {
  @IsUUID()
  id!: string;

  /** The item's id or ref (`feature-12`). */
  @Matches(ITEM_REF_PATTERN, { message: 'itemId must be an item id or a ref like feature-12' })
  itemId!: string;

  @IsString()
  author!: string;

  @IsString()
  body!: string;

  @IsString()
  createdAt!: string;
}

/** One change of an item: who, when, which field, from → to. */
export class HistoryEntryView {
  @IsString()
  id!: string;

  /** The item's id or ref (`feature-12`). */
  @Matches(ITEM_REF_PATTERN, { message: 'itemId must be an item id or a ref like feature-12' })
  itemId!: string;

  /** A person's or token's name, a machine, or `tracker` for what the hub did itself. */
  @IsString()
  actor!: string;

  /** `created`, `status`, `title`, `assigned`, `task`, `pull_request`, `comment`, … */
  @IsString()
  field!: string;

  @Nullable()
  @IsString()
  from!: string | null;

  @Nullable()
  @IsString()
  to!: string | null;

  @IsString()
  at!: string;
}

/** POST /api/features/:id/assign: hand the item to an agent (the project's placement fills what is not given). */
export class AssignBody {
  /** A machine name or id. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  target?: string;

  /** @example ["gpu"] */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  capabilities?: string[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(LABEL_PATTERN, { each: true })
  labels?: string[];

  @IsOptional()
  @IsIn(AGENT_CLIS)
  cli?: AgentCliName;

  /** Seconds the agent may run (default 3600). */
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(7 * 24 * 3600)
  timeoutSeconds?: number;
}

// ---- hub-internal requests (gateway → tracker) ----

export class ProjectRefRequest {
  /** The project's id or key. */
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  project!: string;
}

export class CreateProjectRequest extends CreateProjectBody {
  @IsIn([1])
  v!: 1;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class UpdateProjectRequest extends UpdateProjectBody {
  @IsIn([1])
  v!: 1;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  project!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class DeleteProjectRequest extends ProjectRefRequest {
  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class ListProjectsRequest extends ListProjectsQuery {}

export class CreateMilestoneRequest extends CreateMilestoneBody {
  @IsIn([1])
  v!: 1;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  project!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class UpdateMilestoneRequest extends UpdateMilestoneBody {
  @IsIn([1])
  v!: 1;

  @IsUUID()
  milestoneId!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class MilestoneRefRequest {
  @IsUUID()
  milestoneId!: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => Sender)
  actor?: Sender;
}

export class ListMilestonesRequest extends PageQuery {
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  project!: string;
}

export class CreateFeatureRequest extends CreateFeatureBody {
  @IsIn([1])
  v!: 1;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  project!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class CreateBugRequest extends CreateBugBody {
  @IsIn([1])
  v!: 1;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  project!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class UpdateFeatureRequest extends UpdateFeatureBody {
  @IsIn([1])
  v!: 1;

  /** The item's id or ref (`feature-12`). */
  @Matches(ITEM_REF_PATTERN, { message: 'itemId must be an item id or a ref like feature-12' })
  itemId!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class UpdateBugRequest extends UpdateBugBody {
  @IsIn([1])
  v!: 1;

  /** The item's id or ref (`feature-12`). */
  @Matches(ITEM_REF_PATTERN, { message: 'itemId must be an item id or a ref like feature-12' })
  itemId!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class WorkItemRefRequest {
  @IsIn(WORK_ITEM_KINDS)
  kind!: WorkItemKind;

  /** The item's id or ref (`feature-12`). */
  @Matches(ITEM_REF_PATTERN, { message: 'itemId must be an item id or a ref like feature-12' })
  itemId!: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => Sender)
  actor?: Sender;
}

export class ListWorkItemsRequest extends ListWorkItemsQuery {
  @IsIn(WORK_ITEM_KINDS)
  kind!: WorkItemKind;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  project!: string;
}

export class ItemPageRequest extends PageQuery {
  @IsIn(WORK_ITEM_KINDS)
  kind!: WorkItemKind;

  /** The item's id or ref (`feature-12`). */
  @Matches(ITEM_REF_PATTERN, { message: 'itemId must be an item id or a ref like feature-12' })
  itemId!: string;
}

export class CreateCommentRequest extends CreateCommentBody {
  @IsIn([1])
  v!: 1;

  @IsIn(WORK_ITEM_KINDS)
  kind!: WorkItemKind;

  /** The item's id or ref (`feature-12`). */
  @Matches(ITEM_REF_PATTERN, { message: 'itemId must be an item id or a ref like feature-12' })
  itemId!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class AssignRequest extends AssignBody {
  @IsIn([1])
  v!: 1;

  @IsIn(WORK_ITEM_KINDS)
  kind!: WorkItemKind;

  /** The item's id or ref (`feature-12`). */
  @Matches(ITEM_REF_PATTERN, { message: 'itemId must be an item id or a ref like feature-12' })
  itemId!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

// ---- checkouts: the git repositories machines report under their source folders ----

export class LastCommit {
  @Matches(/^[0-9a-f]{40,64}$/, { message: 'sha must be a commit hash' })
  sha!: string;

  @IsString()
  @MaxLength(500)
  subject!: string;

  /** ISO time of the commit. */
  @IsString()
  @MaxLength(40)
  at!: string;
}

/** One git repository a machine has under a source folder. */
export class RepoCheckout {
  /** Absolute path on the machine. */
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  @Matches(TEXT_PATTERN, { message: 'path must not contain control characters' })
  path!: string;

  /** `origin`'s URL, without any credential in it. */
  @Nullable()
  @IsString()
  @MaxLength(1000)
  @Matches(TEXT_PATTERN, { message: 'remote must not contain control characters' })
  remote!: string | null;

  /** The checked-out branch (null: detached). */
  @Nullable()
  @IsString()
  @MaxLength(300)
  branch!: string | null;

  /** Uncommitted changes or untracked files. */
  @IsBoolean()
  dirty!: boolean;

  @Nullable()
  @ValidateNested()
  @Type(() => LastCommit)
  lastCommit!: LastCommit | null;
}

/** `waggle.m.<id>.up.repos`: what a machine found under its source folders (the whole list each time). */
export class ReposReport {
  @IsIn([1])
  v!: 1;

  /** The source folders it scanned. */
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(4096, { each: true })
  sources!: string[];

  @IsArray()
  @ArrayMaxSize(2000)
  @ValidateNested({ each: true })
  @Type(() => RepoCheckout)
  repos!: RepoCheckout[];
}

export class CheckoutView extends RepoCheckout {
  @IsUUID()
  machineId!: string;

  @IsString()
  machineName!: string;

  /** The project whose repository this is (matched by remote URL). */
  @Nullable()
  @IsString()
  projectKey!: string | null;

  @IsString()
  reportedAt!: string;
}

/** GET /api/checkouts */
export class ListCheckoutsQuery extends PageQuery {
  /** A machine name or id. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  machine?: string;

  /** Only checkouts of this project (key or id). */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  project?: string;
}

export class ListCheckoutsRequest extends ListCheckoutsQuery {}

/** POST /api/projects/import: a project for every repository machines have that no project has yet. */
export class ImportProjectsBody {
  /** Only what this machine (name or id) has. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  machine?: string;

  /** Say what would be made, make nothing. */
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

export class ImportProjectsRequest extends ImportProjectsBody {
  @IsIn([1])
  v!: 1;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class ImportedProject {
  /** The project's key (for a dry run: the key it would get). */
  @IsString()
  key!: string;

  @IsString()
  repository!: string;

  /** Machines that have it checked out, with where. */
  @IsString({ each: true })
  checkouts!: string[];

  /** `created`, `would create`, or `exists` (a project already had this repository). */
  @IsIn(['created', 'would create', 'exists'])
  result!: 'created' | 'would create' | 'exists';
}

export class ImportProjectsReply {
  @ValidateNested({ each: true })
  @Type(() => ImportedProject)
  projects!: ImportedProject[];

  /** Checkouts left out, and why (no remote). */
  @IsString({ each: true })
  skipped!: string[];
}

// ---- the activity log: every change made through the API ----

/** An API token, a person signed in, a machine's credential, or nobody (a public route). */
export const ACTOR_KINDS = ['token', 'user', 'machine', 'anonymous'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export class ActivityActor {
  /** An API token, a person signed in, a machine's credential, or nobody (a public route). */
  @IsString()
  @MaxLength(40)
  kind!: string;

  /** The token's or machine's name. */
  @IsString()
  @MaxLength(200)
  name!: string;

  /** The API token's id, the person's user id, or the machine's. */
  @Nullable()
  @IsString()
  @MaxLength(100)
  id!: string | null;
}

/** `waggle.activity.api`: one change made through the API (no body: it may hold secrets). */
export class ActivityRecord {
  @IsIn([1])
  v!: 1;

  @IsUUID()
  id!: string;

  /** ISO time the request was answered. */
  @IsString()
  @MaxLength(40)
  at!: string;

  @ValidateNested()
  @Type(() => ActivityActor)
  actor!: ActivityActor;

  /** The caller's address. */
  @IsString()
  @MaxLength(100)
  address!: string;

  @IsIn(['POST', 'PUT', 'PATCH', 'DELETE'])
  method!: string;

  /**
   * The route pattern.
   * @example "/api/features/:id/assign"
   */
  @IsString()
  @MaxLength(300)
  route!: string;

  /** The path asked for, without its query string. */
  @IsString()
  @MaxLength(2000)
  path!: string;

  @IsInt()
  @Min(100)
  @Max(599)
  status!: number;

  /** The request's correlation id (in the gateway's logs). */
  @IsString()
  @MaxLength(200)
  requestId!: string;
}

export class ActivityView {
  @IsString()
  id!: string;

  @IsString()
  at!: string;

  @ValidateNested()
  @Type(() => ActivityActor)
  actor!: ActivityActor;

  @IsString()
  address!: string;

  @IsString()
  method!: string;

  @IsString()
  route!: string;

  @IsString()
  path!: string;

  @IsInt()
  status!: number;

  @IsString()
  requestId!: string;
}

/** GET /api/activity: newest first. */
export class ListActivityQuery extends PageQuery {
  /** Only this actor (a token's or machine's name). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;

  @IsOptional()
  @IsIn(ACTOR_KINDS)
  actorKind?: ActorKind;

  @IsOptional()
  @IsIn(['POST', 'PUT', 'PATCH', 'DELETE'])
  method?: string;

  /** Paths starting with this (`/api/projects`). */
  @IsOptional()
  @IsString()
  @MaxLength(300)
  @Matches(/^\/[^\s%]*$/, { message: 'path must be a path starting with /' })
  path?: string;

  /** Only failures (status 400 and above), or only successes. */
  @IsOptional()
  @IsIn(['ok', 'failed'])
  outcome?: 'ok' | 'failed';

  /** ISO time: not before. */
  @IsOptional()
  @IsISO8601()
  since?: string;

  /** ISO time: before. */
  @IsOptional()
  @IsISO8601()
  until?: string;
}

export class ListActivityRequest extends ListActivityQuery {}

// ---- "agents work on labelled issues": the GitHub bot's watch of the project's repository ----

/** PUT /api/projects/:project/labelled-issues: the project's repository becomes the GitHub bot's watched repository. */
export class LabelledIssuesBody {
  /** Issues carrying this label go to agents (default `waggle`). */
  @IsOptional()
  @Matches(GITHUB_LABEL_PATTERN, { message: 'label must be 1-50 characters without commas or control characters' })
  label?: string;

  /** Poll the repository (for hubs GitHub cannot reach). Default true. */
  @IsOptional()
  @IsBoolean()
  poll?: boolean;

  /** The webhook's secret; absent: one is made and shown once in the reply. */
  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(200)
  webhookSecret?: string;
}

export class LabelledIssuesRequest extends LabelledIssuesBody {
  @IsIn([1])
  v!: 1;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  project!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

// ---- planning a milestone with an LLM ----

/** `waggle.m.<id>.down.notes`: the hub asks a machine what a checkout of a project says about its work. */
export class ProjectNotesRequest {
  @IsIn([1])
  v!: 1;

  /** The checkout's path, as the machine reported it (it must be under one of its source folders). */
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  path!: string;
}

export interface ProjectNotes {
  /** The README's beginning, if there is one. */
  readme: string | null;
  /** `file:line: text` of each TODO or FIXME, up to a few hundred. */
  todos: string[];
}

/** POST /api/projects/:project/plan: ask the LLM for the next milestone's plan. */
export class PlanBody {
  /** What the milestone is about, in a few words (the model proposes its title otherwise). */
  @IsOptional()
  @IsString()
  @MaxLength(300)
  @Matches(TEXT_PATTERN, { message: 'milestone must not contain control characters' })
  milestone?: string;

  /** The machine whose checkout is read (default: the first that answers). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  machine?: string;

  /** At most this many proposed features (default 10). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(30)
  maxFeatures?: number;
}

export class PlanRequest extends PlanBody {
  @IsIn([1])
  v!: 1;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  project!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class ProposedFeature {
  /** Its place in the proposal (what an accept names). */
  @IsInt()
  index!: number;

  @IsString()
  title!: string;

  @IsString()
  spec!: string;

  @IsIn(PRIORITIES)
  priority!: Priority;
}

export class ProposedMilestone {
  @IsString()
  title!: string;

  @IsString()
  description!: string;
}

export class PlanSources {
  /** The machine whose checkout was read, and where. */
  @IsString()
  machine!: string;

  @IsString()
  path!: string;

  @IsInt()
  todos!: number;

  @IsInt()
  openBugs!: number;

  @IsBoolean()
  readme!: boolean;
}

export const PLAN_STATES = ['proposed', 'accepted'] as const;
export type PlanState = (typeof PLAN_STATES)[number];

/** A milestone plan the model proposed: nothing of it exists until a person accepts it. */
export class PlanView {
  @IsUUID()
  id!: string;

  @IsUUID()
  projectId!: string;

  @IsIn(PLAN_STATES)
  state!: PlanState;

  @ValidateNested()
  @Type(() => ProposedMilestone)
  milestone!: ProposedMilestone;

  @ValidateNested({ each: true })
  @Type(() => ProposedFeature)
  features!: ProposedFeature[];

  @ValidateNested()
  @Type(() => PlanSources)
  sources!: PlanSources;

  @IsString()
  createdAt!: string;
}

/** POST /api/plans/:id/accept: the proposed features to create (by index); the others are dropped. */
export class AcceptPlanBody {
  /** @example [0, 2] */
  @IsArray()
  @ArrayMaxSize(30)
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(29, { each: true })
  accept!: number[];
}

export class AcceptPlanRequest extends AcceptPlanBody {
  @IsIn([1])
  v!: 1;

  @IsUUID()
  planId!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class PlanRefRequest {
  @IsUUID()
  planId!: string;
}

export class AcceptPlanReply {
  /** The milestone made (none when nothing was accepted). */
  @Nullable()
  @ValidateNested()
  @Type(() => MilestoneView)
  milestone!: MilestoneView | null;

  /** The features made, in the milestone, status planned. */
  @ValidateNested({ each: true })
  @Type(() => WorkItemView)
  features!: WorkItemView[];

  /** How many proposed features were dropped. */
  @IsInt()
  dropped!: number;
}

export class DeletedReply {
  @IsBoolean()
  deleted!: true;
}

/** Tracker request/reply subjects (gateway → tracker). */
export const TrackerRpc = {
  createProject: 'waggle.rpc.tracker.projects.create',
  listProjects: 'waggle.rpc.tracker.projects.list',
  getProject: 'waggle.rpc.tracker.projects.get',
  updateProject: 'waggle.rpc.tracker.projects.update',
  deleteProject: 'waggle.rpc.tracker.projects.delete',
  createMilestone: 'waggle.rpc.tracker.milestones.create',
  listMilestones: 'waggle.rpc.tracker.milestones.list',
  getMilestone: 'waggle.rpc.tracker.milestones.get',
  updateMilestone: 'waggle.rpc.tracker.milestones.update',
  deleteMilestone: 'waggle.rpc.tracker.milestones.delete',
  createFeature: 'waggle.rpc.tracker.features.create',
  updateFeature: 'waggle.rpc.tracker.features.update',
  createBug: 'waggle.rpc.tracker.bugs.create',
  updateBug: 'waggle.rpc.tracker.bugs.update',
  listItems: 'waggle.rpc.tracker.items.list',
  getItem: 'waggle.rpc.tracker.items.get',
  deleteItem: 'waggle.rpc.tracker.items.delete',
  comment: 'waggle.rpc.tracker.items.comment',
  listComments: 'waggle.rpc.tracker.items.comments',
  history: 'waggle.rpc.tracker.items.history',
  assign: 'waggle.rpc.tracker.items.assign',
  listCheckouts: 'waggle.rpc.tracker.checkouts.list',
  importProjects: 'waggle.rpc.tracker.projects.import',
  listActivity: 'waggle.rpc.tracker.activity.list',
  watchLabelled: 'waggle.rpc.tracker.projects.labelled.watch',
  getLabelled: 'waggle.rpc.tracker.projects.labelled.get',
  unwatchLabelled: 'waggle.rpc.tracker.projects.labelled.unwatch',
  plan: 'waggle.rpc.tracker.plans.create',
  getPlan: 'waggle.rpc.tracker.plans.get',
  acceptPlan: 'waggle.rpc.tracker.plans.accept',
} as const;

declare module './rpc' {
  interface RpcMap {
    'waggle.rpc.tracker.projects.create': [CreateProjectRequest, ProjectView];
    'waggle.rpc.tracker.projects.list': [ListProjectsRequest, Page<ProjectView>];
    'waggle.rpc.tracker.projects.get': [ProjectRefRequest, ProjectView];
    'waggle.rpc.tracker.projects.update': [UpdateProjectRequest, ProjectView];
    /** Deletes the project with its milestones, items, comments and history. */
    'waggle.rpc.tracker.projects.delete': [DeleteProjectRequest, DeletedReply];
    'waggle.rpc.tracker.milestones.create': [CreateMilestoneRequest, MilestoneView];
    'waggle.rpc.tracker.milestones.list': [ListMilestonesRequest, Page<MilestoneView>];
    'waggle.rpc.tracker.milestones.get': [MilestoneRefRequest, MilestoneView];
    'waggle.rpc.tracker.milestones.update': [UpdateMilestoneRequest, MilestoneView];
    /** Its items stay, without a milestone. */
    'waggle.rpc.tracker.milestones.delete': [MilestoneRefRequest, DeletedReply];
    'waggle.rpc.tracker.features.create': [CreateFeatureRequest, WorkItemView];
    'waggle.rpc.tracker.features.update': [UpdateFeatureRequest, WorkItemView];
    'waggle.rpc.tracker.bugs.create': [CreateBugRequest, WorkItemView];
    'waggle.rpc.tracker.bugs.update': [UpdateBugRequest, WorkItemView];
    'waggle.rpc.tracker.items.list': [ListWorkItemsRequest, Page<WorkItemView>];
    'waggle.rpc.tracker.items.get': [WorkItemRefRequest, WorkItemView];
    'waggle.rpc.tracker.items.delete': [WorkItemRefRequest, DeletedReply];
    'waggle.rpc.tracker.items.comment': [CreateCommentRequest, CommentView];
    'waggle.rpc.tracker.items.comments': [ItemPageRequest, Page<CommentView>];
    'waggle.rpc.tracker.items.history': [ItemPageRequest, Page<HistoryEntryView>];
    /** Makes the item's task (CONFLICT while an earlier one still runs); the item moves to in progress. */
    'waggle.rpc.tracker.items.assign': [AssignRequest, WorkItemView];
    'waggle.rpc.tracker.checkouts.list': [ListCheckoutsRequest, Page<CheckoutView>];
    'waggle.rpc.tracker.projects.import': [ImportProjectsRequest, ImportProjectsReply];
    'waggle.rpc.tracker.activity.list': [ListActivityRequest, Page<ActivityView>];
    /** Through the GitHub bot: the webhook secret, when the bot made it, is in the reply this once. */
    'waggle.rpc.tracker.projects.labelled.watch': [LabelledIssuesRequest, WatchedRepoCreated];
    'waggle.rpc.tracker.projects.labelled.get': [ProjectRefRequest, WatchedRepoView];
    'waggle.rpc.tracker.projects.labelled.unwatch': [DeleteProjectRequest, WatchedRepoView];
    /** Reads a checkout on a machine, asks the LLM gateway; stores the proposal, creates nothing. */
    'waggle.rpc.tracker.plans.create': [PlanRequest, PlanView];
    'waggle.rpc.tracker.plans.get': [PlanRefRequest, PlanView];
    /** Creates the milestone and the accepted features only; once per plan. */
    'waggle.rpc.tracker.plans.accept': [AcceptPlanRequest, AcceptPlanReply];
  }
}

/** The class each tracker request is decoded into (spread into RpcRequestTypes). */
export const TrackerRpcRequestTypes = {
  'waggle.rpc.tracker.projects.create': CreateProjectRequest,
  'waggle.rpc.tracker.projects.list': ListProjectsRequest,
  'waggle.rpc.tracker.projects.get': ProjectRefRequest,
  'waggle.rpc.tracker.projects.update': UpdateProjectRequest,
  'waggle.rpc.tracker.projects.delete': DeleteProjectRequest,
  'waggle.rpc.tracker.milestones.create': CreateMilestoneRequest,
  'waggle.rpc.tracker.milestones.list': ListMilestonesRequest,
  'waggle.rpc.tracker.milestones.get': MilestoneRefRequest,
  'waggle.rpc.tracker.milestones.update': UpdateMilestoneRequest,
  'waggle.rpc.tracker.milestones.delete': MilestoneRefRequest,
  'waggle.rpc.tracker.features.create': CreateFeatureRequest,
  'waggle.rpc.tracker.features.update': UpdateFeatureRequest,
  'waggle.rpc.tracker.bugs.create': CreateBugRequest,
  'waggle.rpc.tracker.bugs.update': UpdateBugRequest,
  'waggle.rpc.tracker.items.list': ListWorkItemsRequest,
  'waggle.rpc.tracker.items.get': WorkItemRefRequest,
  'waggle.rpc.tracker.items.delete': WorkItemRefRequest,
  'waggle.rpc.tracker.items.comment': CreateCommentRequest,
  'waggle.rpc.tracker.items.comments': ItemPageRequest,
  'waggle.rpc.tracker.items.history': ItemPageRequest,
  'waggle.rpc.tracker.items.assign': AssignRequest,
  'waggle.rpc.tracker.checkouts.list': ListCheckoutsRequest,
  'waggle.rpc.tracker.projects.import': ImportProjectsRequest,
  'waggle.rpc.tracker.activity.list': ListActivityRequest,
  'waggle.rpc.tracker.projects.labelled.watch': LabelledIssuesRequest,
  'waggle.rpc.tracker.projects.labelled.get': ProjectRefRequest,
  'waggle.rpc.tracker.projects.labelled.unwatch': DeleteProjectRequest,
  'waggle.rpc.tracker.plans.create': PlanRequest,
  'waggle.rpc.tracker.plans.get': PlanRefRequest,
  'waggle.rpc.tracker.plans.accept': AcceptPlanRequest,
} as const satisfies Record<(typeof TrackerRpc)[keyof typeof TrackerRpc], Constructor<object>>;
