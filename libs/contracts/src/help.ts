import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
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

import { TEXT_PATTERN } from './messages';
import type { SessionHookRequest } from './sessions';
import type { TaskKind, TaskResult, TaskState } from './tasks';
import { TASK_KINDS, TaskInput, TaskLeaseRequest, TaskRequirements } from './tasks';

/**
 * A running task asks for help (`waggle help` inside the task, through its agent): on
 * `waggle.m.<id>.up.help.ask`, fenced by the asking attempt like a renewal.
 */
export class HelpAskRequest extends TaskLeaseRequest {
  /** What the helper must have: capability tags and labels, as for a task. */
  @ValidateNested()
  @Type(() => TaskRequirements)
  requires!: TaskRequirements;

  /** Why help is needed; shown to people and to the peers asked. */
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  @Matches(TEXT_PATTERN, { message: 'reason must not contain control characters' })
  reason!: string;

  /** The work for the helper (default: an `agent` task whose prompt is the reason). */
  @IsOptional()
  @IsIn(TASK_KINDS)
  kind?: TaskKind;

  @IsOptional()
  @ValidateNested()
  @Type(() => TaskInput)
  input?: TaskInput;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  timeoutSeconds?: number;

  /** Offers with a longer ETA than this are not taken (default 600 s). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(24 * 3600)
  maxEtaSeconds?: number;
}

/** `waggle.m.<id>.up.help.status`: how the help the attempt asked for is going. */
export class HelpStatusRequest extends TaskLeaseRequest {
  @IsUUID()
  helpId!: string;
}

/** Hub → peer on `waggle.m.<peer>.down.help` (request/reply): can you take this, and when? */
export class HelpQuestion {
  @IsIn([1])
  v!: 1;

  @IsUUID()
  helpId!: string;

  @IsString()
  from!: string;

  @IsString()
  reason!: string;

  @IsIn(TASK_KINDS)
  kind!: TaskKind;

  @ValidateNested()
  @Type(() => TaskInput)
  input!: TaskInput;

  @IsInt()
  @Min(0)
  maxEtaSeconds!: number;
}

/** A peer's answer to a HelpQuestion. */
export class HelpAnswer {
  @IsBoolean()
  accept!: boolean;

  /** Seconds until it can start: 0 with a free slot. */
  @IsInt()
  @Min(0)
  etaSeconds!: number;

  /** Why not, when it declines. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export const HELP_STATES = ['accepted', 'unanswered'] as const;
export type HelpState = (typeof HELP_STATES)[number];

/** A help request, from the parent's side; the child task links back with `parentTaskId`. */
export interface HelpView {
  id: string;
  parentTaskId: string;
  parentAttempt: number;
  /** The machine that asked. */
  from: { machineId: string; name: string };
  reason: string;
  requires: TaskRequirements;
  state: HelpState;
  /** The peer that took it, and when it said it could start. */
  helper: { machineId: string; name: string } | null;
  etaSeconds: number | null;
  childTaskId: string | null;
  /** Every peer asked, and what it answered. */
  answers: { machineId: string; name: string; accept: boolean; etaSeconds: number | null; reason?: string }[];
  createdAt: string;
}

/** Reply of `up.help.status`: the help request and where its child task is. */
export interface HelpStatusReply {
  help: HelpView;
  child: { id: string; state: TaskState; machine: string | null; result: TaskResult | null } | null;
}

/**
 * What `waggle help` sends to its node-agent over the agent's local socket (one JSON line
 * each way). The agent checks the attempt runs on it, then asks the hub as itself.
 */
export type AgentSocketRequest =
  | { op: 'help'; body: HelpAskRequest }
  | { op: 'help-status'; body: HelpStatusRequest }
  | { op: 'session-hook'; body: SessionHookRequest };
export type AgentSocketOp = AgentSocketRequest['op'];
export const AGENT_SOCKET_OPS = ['help', 'help-status'] as const satisfies readonly AgentSocketOp[];
