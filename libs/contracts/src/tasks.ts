import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
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

import { GithubTaskInput } from './github';
import type { HelpView } from './help';
import { IsIdRef } from './ids';
import { AGENT_CLIS, HEX_256, LABEL_PATTERN } from './machines';
import type { AgentCliName } from './machines';
import { Sender, TEXT_PATTERN } from './messages';
import { PageQuery } from './pagination';
import { Nullable } from './validation';
import { IsSecretRefs, PROJECT_NAME_PATTERN } from './vault';

/** `github-issue`: clone, run the agent CLI on the issue, push a branch and open a pull request (or follow-up issues). */
export const TASK_KINDS = ['agent', 'command', 'shell', 'github-issue'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/** queued → assigned → running → one of the final states. */
export const TASK_STATES = ['queued', 'assigned', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINAL_TASK_STATES: ReadonlySet<TaskState> = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

/** How an attempt ended; `lost` = its lease expired (agent died or lost contact). */
export const ATTEMPT_STATES = ['assigned', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'lost'] as const;
export type AttemptState = (typeof ATTEMPT_STATES)[number];

export const TASK_OUTCOMES = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type TaskOutcome = (typeof TASK_OUTCOMES)[number];

/** What to run. Which fields apply depends on the kind (checked by the router). */
export class TaskInput {
  /** agent: the prompt. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200_000)
  prompt?: string;

  /** agent: which CLI (default: the first the chosen machine has, in claude, codex, gemini, ollama order). */
  @IsOptional()
  @IsIn(AGENT_CLIS)
  cli?: AgentCliName;

  /** agent with ollama: the model. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  model?: string;

  /** command: the program (looked up on PATH). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  @Matches(/^[^\0]+$/)
  program?: string;

  /** command: its arguments, passed as an array (never through a shell). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(100_000, { each: true })
  args?: string[];

  /** shell: the script, fed to `sh -s` on stdin. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200_000)
  script?: string;

  /** Working directory on the machine (default: a fresh directory for the attempt). */
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  cwd?: string;

  /** github-issue: the issue and what to deliver (the prompt is in `prompt`). */
  @IsOptional()
  @ValidateNested()
  @Type(() => GithubTaskInput)
  github?: GithubTaskInput;
}

export class TaskRequirements {
  /**
   * Capability tags every candidate must have: `claude`, `ollama:llama3`, `gpu`, `git`.
   * @example ["claude","gpu"]
   */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  capabilities?: string[];

  /**
   * Labels every candidate must have: `gpu=4090`.
   * @example ["room=lab"]
   */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(LABEL_PATTERN, { each: true })
  labels?: string[];
}

/** What makes a failed attempt worth another. A lost attempt (its machine died, stopped or lost contact) is always tried again. */
export const RETRY_ON = ['lost', 'timeout', 'failure'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

/**
 * When a task is tried again, up to its `maxAttempts`: `on` lists the kinds of failure
 * (`failure`: any non-zero exit), `exitCodes` adds particular exit codes, and each retry
 * waits `backoffSeconds`, doubled for every attempt after the first (at most an hour).
 * Without one: lost attempts only, at once (the policy `{ on: ['lost'] }`).
 */
export class RetryPolicy {
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(RETRY_ON.length)
  @IsIn(RETRY_ON, { each: true })
  on?: RetryOn[];

  /** @example [75, 111] */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(255, { each: true })
  exitCodes?: number[];

  /** Seconds before the first retry, doubled for each one after (default 5). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3600)
  backoffSeconds?: number;
}

/** POST /api/tasks: the task a caller asks for. The hub adds who asked. */
export class CreateTaskBody {
  /** @example "Run the test suite" */
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  @Matches(TEXT_PATTERN, { message: 'title must not contain control characters' })
  title!: string;

  @IsIn(TASK_KINDS)
  kind!: TaskKind;

  @ValidateNested()
  @Type(() => TaskInput)
  input!: TaskInput;

  /** A machine name or id: the task waits in that machine's queue while it is off. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  target?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => TaskRequirements)
  requires?: TaskRequirements;

  /** 0..100, higher first (default 50). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  priority?: number;

  /** Seconds the process may run (default 3600). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  timeoutSeconds?: number;

  /** Attempts before the task fails for good (default 3). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(20)
  maxAttempts?: number;

  /** When a failed attempt is tried again (default: only a lost one). */
  @IsOptional()
  @ValidateNested()
  @Type(() => RetryPolicy)
  retry?: RetryPolicy;

  /** The parent task (for help requests). */
  @IsOptional()
  @IsUUID()
  parentTaskId?: string;

  /**
   * Secrets the task receives in its environment: `{ ENV_VAR: "secret-name" }`. The name is
   * looked up in the task's project, then among global secrets; the vault seals each value
   * to the executing machine's key, and the value is masked in logs, result and events.
   * @example { "GITHUB_TOKEN": "gh-bot" }
   */
  @IsOptional()
  @IsSecretRefs()
  secrets?: Record<string, string>;

  /** The project the task belongs to (a name, until the tracker owns projects): its secrets are in reach. */
  @IsOptional()
  @Matches(PROJECT_NAME_PATTERN, { message: 'project must be 1-63 letters, digits, ".", "_" or "-"' })
  project?: string;
}

/** `waggle.rpc.task-router.tasks.create` */
export class CreateTaskRequest extends CreateTaskBody {
  @IsIn([1])
  v!: 1;

  /** A repeated create with the same key returns the task the first one made (a caller's retry makes no second task). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  idempotencyKey?: string;

  /** Hash of the request body: the same key with another body is refused (IDEMPOTENCY_KEY_REUSED). */
  @IsOptional()
  @Matches(HEX_256)
  idempotencyFingerprint?: string;

  @ValidateNested()
  @Type(() => Sender)
  createdBy!: Sender;
}

export interface TaskResult {
  outcome: TaskOutcome;
  exitCode: number | null;
  durationMs: number;
  /** Last lines of stdout and stderr together. */
  outputTail: string;
  /** JSON the process wrote to $WAGGLE_RESULT_FILE, if any. */
  structured?: unknown;
  error?: string;
}

export interface AttemptView {
  attempt: number;
  machineId: string;
  machineName: string;
  state: AttemptState;
  assignedAt: string;
  startedAt: string | null;
  endedAt: string | null;
  result: TaskResult | null;
}

/** Why a queued task is waiting: each machine that could not take it, and why. */
export interface WaitingReason {
  summary: string;
  candidates: { machineId: string; name: string; reasons: string[] }[];
}

export class TaskView {
  @IsUUID()
  id!: string;

  @IsString()
  title!: string;

  @IsIn(TASK_KINDS)
  kind!: TaskKind;

  @ValidateNested()
  @Type(() => TaskInput)
  input!: TaskInput;

  /** `{ machineId, name }` it was targeted at. */
  @Nullable()
  @IsObject()
  target!: { machineId: string; name: string } | null;

  @ValidateNested()
  @Type(() => TaskRequirements)
  requires!: TaskRequirements;

  @IsInt()
  priority!: number;

  @IsInt()
  timeoutSeconds!: number;

  @IsInt()
  maxAttempts!: number;

  /** When a failed attempt is tried again: `{ on, exitCodes, backoffSeconds }`. */
  @ValidateNested()
  @Type(() => RetryPolicy)
  retry!: RetryPolicy;

  /** Queued after a failure: the next attempt starts no sooner than this. */
  @Nullable()
  @IsString()
  retryAt!: string | null;

  @IsIn(TASK_STATES)
  state!: TaskState;

  /** The current attempt (the fencing token). */
  @IsInt()
  attempt!: number;

  /** `{ machineId, name }` it runs on. */
  @Nullable()
  @IsObject()
  machine!: { machineId: string; name: string } | null;

  @ValidateNested()
  @Type(() => Sender)
  createdBy!: Sender;

  @IsString()
  createdAt!: string;

  @IsString()
  updatedAt!: string;

  /** `{ outcome, exitCode, durationMs, outputTail, structured, error }` */
  @Nullable()
  @IsObject()
  result!: TaskResult | null;

  /** While queued: `{ summary, candidates: [{ machineId, name, reasons[] }] }` */
  @Nullable()
  @IsObject()
  waiting!: WaitingReason | null;

  /** The task this one helps (it was created by a help request of that task). */
  @Nullable()
  @IsUUID()
  parentTaskId!: string | null;

  /** Environment variable → secret name (names only: values never leave the vault but sealed to the running machine). */
  @IsObject()
  secrets!: Record<string, string>;

  /** The task's project (a name), or null. */
  @Nullable()
  @IsString()
  project!: string | null;

  /** Help this task asked for, each with its child task: `{ id, reason, requires, state (accepted|unanswered), helper, etaSeconds, childTaskId, answers[] }` */
  @IsObject({ each: true })
  help!: HelpView[];

  /** Every attempt: `{ attempt, machineId, machineName, state, assignedAt, startedAt, endedAt, result }` */
  @IsObject({ each: true })
  attempts!: AttemptView[];
}

/** `GET /api/tasks`: filters. */
export class ListTasksQuery extends PageQuery {
  @IsOptional()
  @IsIn(TASK_STATES)
  state?: TaskState;

  /** Machine name or id the task is or was assigned to. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  machine?: string;

  @IsOptional()
  @IsIn(TASK_KINDS)
  kind?: TaskKind;

  /**
   * Only tasks whose title contains this text (case-insensitive).
   * @example "tests"
   */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @Matches(TEXT_PATTERN, { message: 'q must not contain control characters' })
  q?: string;
}

/** `…tasks.list`: the query, and for a machine's credential the machine whose tasks it may see. */
export class ListTasksRequest extends ListTasksQuery {
  /** Only tasks this machine runs, ran, is targeted by or created (set by the gateway, never by the caller). */
  @IsOptional()
  @IsUUID()
  visibleTo?: string;
}

/** Whether a machine may see a task: it runs or ran it, it is its target, or it created it (a help child). */
export function taskVisibleTo(
  task: Pick<TaskView, 'machine' | 'target' | 'createdBy' | 'attempts'>,
  machineId: string,
): boolean {
  return (
    task.machine?.machineId === machineId ||
    task.target?.machineId === machineId ||
    task.createdBy.machineId === machineId ||
    task.attempts.some((a) => a.machineId === machineId)
  );
}

/** Kinds that run a program the creator names; a machine may create them only for itself. */
export const PROGRAM_TASK_KINDS: ReadonlySet<TaskKind> = new Set(['command', 'shell']);

/** A machine that creates tasks through the API: who it is and what an admin granted it. */
export interface TaskCreator {
  id: string;
  name: string;
  permissions: readonly string[];
}

/** Why this machine may not create tasks through the API at all, or undefined if it may (it holds `dispatch`). */
export function machineDispatchRefusal(creator: TaskCreator): string | undefined {
  return creator.permissions.includes('dispatch')
    ? undefined
    : `machine "${creator.name}" may not create tasks: an admin has not granted it dispatch (\`waggle machines grant ${creator.name} dispatch\`); a running task asks for help with \`waggle help\``;
}

/**
 * Why a machine may not create this task through the API, or undefined if it may: it needs
 * the `dispatch` permission, and a shell or command task it creates must be targeted at
 * itself. (Help children are made by the router for a running task, not under this rule.)
 */
export function machineTaskRefusal(
  creator: TaskCreator,
  task: { kind: TaskKind; targetMachineId: string | null },
): string | undefined {
  const refusal = machineDispatchRefusal(creator);
  if (refusal) {
    return refusal;
  }
  if (PROGRAM_TASK_KINDS.has(task.kind) && task.targetMachineId !== creator.id) {
    return `a machine may create ${task.kind} tasks only for itself: target "${creator.name}"`;
  }
  return undefined;
}

/** A task by its id or the id's first characters (a unique prefix, as in git). */
export class TaskRefRequest {
  @IsIdRef()
  taskId!: string;

  /** Set for a machine's credential: only the tasks it may see are matched. */
  @IsOptional()
  @IsUUID()
  visibleTo?: string;
}

/** GET /api/tasks/{id}/logs: which chunks. */
export class TaskLogsQuery {
  /** Only chunks after this sequence number (the previous page's `next`). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after?: number;

  /** How many chunks, 1..5000 (default 1000). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  limit?: number;
}

/** `waggle.rpc.task-router.tasks.logs` */
export class TaskLogsRequest extends TaskLogsQuery {
  @IsIdRef()
  taskId!: string;

  @IsOptional()
  @IsUUID()
  visibleTo?: string;
}

export class LogChunkView {
  @IsInt()
  seq!: number;

  @IsInt()
  attempt!: number;

  @IsIn(['stdout', 'stderr'])
  stream!: 'stdout' | 'stderr';

  @IsString()
  data!: string;

  @IsString()
  at!: string;
}

export class TaskLogsPage {
  @ValidateNested({ each: true })
  @Type(() => LogChunkView)
  items!: LogChunkView[];

  /** Pass as `after` to continue. */
  @IsInt()
  next!: number;
}

/** On `waggle.m.<id>.tasks`: work for the machine (a wake-up; the claim decides). */
export class TaskAssignment {
  @IsIn([1])
  v!: 1;

  @IsUUID()
  taskId!: string;

  /** The fencing token: every claim, renewal, log and result carries it. */
  @IsInt()
  @Min(1)
  attempt!: number;

  @IsString()
  title!: string;

  /** Environment variable → secret name, when the task names secrets (the values come sealed from the vault). */
  @IsOptional()
  @IsSecretRefs()
  secrets?: Record<string, string>;

  @IsIn(TASK_KINDS)
  kind!: TaskKind;

  @ValidateNested()
  @Type(() => TaskInput)
  input!: TaskInput;

  @IsInt()
  @Min(1)
  timeoutSeconds!: number;
}

/** `…up.task.claim` and `…up.task.renew` */
export class TaskLeaseRequest {
  @IsIn([1])
  v!: 1;

  @IsUUID()
  taskId!: string;

  @IsInt()
  @Min(1)
  attempt!: number;
}

/** `waggle.m.<id>.up.task.release`: a stopping machine hands back an attempt it will not finish. */
export interface TaskReleaseReply {
  /** Whether the attempt was still this machine's to hand back. */
  released: boolean;
}

export interface TaskLeaseReply {
  leaseSeconds: number;
  /** The task was cancelled: stop the process. */
  cancel: boolean;
}

/** `…up.task.result` */
export class TaskResultRequest extends TaskLeaseRequest {
  @IsIn(TASK_OUTCOMES)
  outcome!: TaskOutcome;

  @IsOptional()
  @IsInt()
  exitCode?: number | null;

  @IsInt()
  @Min(0)
  durationMs!: number;

  @IsString()
  @MaxLength(16_384)
  outputTail!: string;

  @IsOptional()
  @IsObject()
  structured?: object;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  error?: string;
}

/** On `waggle.m.<id>.logs.<taskId>` (stream WAGGLE_LOGS). */
export class LogChunk {
  @IsIn([1])
  v!: 1;

  @IsUUID()
  taskId!: string;

  @IsInt()
  @Min(1)
  attempt!: number;

  /** Per-attempt order. */
  @IsInt()
  @Min(0)
  seq!: number;

  @IsIn(['stdout', 'stderr'])
  stream!: 'stdout' | 'stderr';

  @IsString()
  @MaxLength(65_536)
  data!: string;

  @IsString()
  at!: string;
}

/** Push to a machine on `waggle.m.<id>.down.cancel` (core NATS; the renewal is the backstop). */
export class CancelSignal {
  @IsUUID()
  taskId!: string;

  @IsInt()
  @Min(1)
  attempt!: number;
}

/** `POST /api/tasks/placement`: the part of a task that decides where it may run (nothing is created). */
export class CheckPlacementBody {
  @IsIn(TASK_KINDS)
  kind!: TaskKind;

  @IsOptional()
  @ValidateNested()
  @Type(() => TaskInput)
  input?: TaskInput;

  /** A machine name or id. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  target?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => TaskRequirements)
  requires?: TaskRequirements;
}

/** One machine and why it could not run the task (empty: it could). */
export class PlacementCandidate {
  @IsString()
  machineId!: string;

  @IsString()
  name!: string;

  @IsIn(['online', 'offline', 'revoked'])
  status!: 'online' | 'offline' | 'revoked';

  /** Empty when the machine could run the task. */
  @IsString({ each: true })
  reasons!: string[];
}

/** What the task-router would decide for such a task: every machine, able first. */
export class PlacementCheck {
  /** Machines that could run it (online or not: a task waits for an offline one). */
  @IsInt()
  able!: number;

  @ValidateNested({ each: true })
  @Type(() => PlacementCandidate)
  machines!: PlacementCandidate[];
}
