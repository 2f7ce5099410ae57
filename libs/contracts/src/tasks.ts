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
import { AGENT_CLIS, LABEL_PATTERN } from './machines';
import type { HelpView } from './help';
import type { AgentCliName } from './machines';
import { Sender, TEXT_PATTERN } from './messages';
import { PageQuery } from './pagination';

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
  /** Capability tags every candidate must have: `claude`, `ollama:llama3`, `gpu`, `git`. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  capabilities?: string[];

  /** Labels every candidate must have: `gpu=4090`. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(LABEL_PATTERN, { each: true })
  labels?: string[];
}

/** `waggle.rpc.task-router.tasks.create` */
export class CreateTaskRequest {
  @IsIn([1])
  v!: 1;

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

  @IsOptional()
  @IsUUID()
  parentTaskId?: string;

  /** A repeated create with the same key returns the task the first one made (a caller's retry makes no second task). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  idempotencyKey?: string;

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

export interface TaskView {
  id: string;
  title: string;
  kind: TaskKind;
  input: TaskInput;
  target: { machineId: string; name: string } | null;
  requires: TaskRequirements;
  priority: number;
  timeoutSeconds: number;
  maxAttempts: number;
  state: TaskState;
  attempt: number;
  machine: { machineId: string; name: string } | null;
  createdBy: Sender;
  createdAt: string;
  updatedAt: string;
  result: TaskResult | null;
  waiting: WaitingReason | null;
  /** The task this one helps (it was created by a help request of that task). */
  parentTaskId: string | null;
  /** Help this task asked for, each with its child task. */
  help: HelpView[];
  attempts: AttemptView[];
}

export class ListTasksRequest extends PageQuery {
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
}

export class TaskRefRequest {
  @IsUUID()
  taskId!: string;
}

export class TaskLogsRequest extends TaskRefRequest {
  /** Only chunks after this sequence number. */
  @IsOptional()
  @IsInt()
  @Min(0)
  after?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5000)
  limit?: number;
}

export interface LogChunkView {
  seq: number;
  attempt: number;
  stream: 'stdout' | 'stderr';
  data: string;
  at: string;
}

export interface TaskLogsPage {
  items: LogChunkView[];
  /** Pass as `after` to continue. */
  next: number;
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
