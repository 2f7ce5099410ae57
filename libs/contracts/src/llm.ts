import { Type } from 'class-transformer';
import { IsIn, IsObject, IsOptional, IsString, IsUUID, Matches, MaxLength, ValidateNested } from 'class-validator';

import { PageQuery } from './pagination';
import { Nullable } from './validation';

/** The HTTP API shapes the gateway speaks to callers. */
export const LLM_APIS = ['openai', 'anthropic'] as const;
export type LlmApi = (typeof LLM_APIS)[number];

/** Provider wire formats llm-failover speaks (`openai` also covers LocalAI, vLLM, LM Studio). */
export const LLM_PROVIDER_KINDS = ['anthropic', 'openai', 'gemini', 'ollama'] as const;
export type LlmProviderKind = (typeof LLM_PROVIDER_KINDS)[number];

export const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

/** Who makes an LLM call: usage and budgets are attributed to it. */
export class LlmCaller {
  @IsIn(['admin', 'machine', 'service'])
  kind!: 'admin' | 'machine' | 'service';

  @IsOptional()
  @IsUUID()
  machineId?: string;

  @IsString()
  @MaxLength(200)
  name!: string;
}

/**
 * `waggle.rpc.llm-failover.complete` (and `.stream`): one call in the caller's API shape.
 * The body is the caller's JSON as sent; llm-failover validates it for its API.
 */
export class LlmCallRequest {
  @IsIn([1])
  v!: 1;

  @IsIn(LLM_APIS)
  api!: LlmApi;

  @IsObject()
  body!: Record<string, unknown>;

  /** Who pays: the machine (or token) that called. */
  @ValidateNested()
  @Type(() => LlmCaller)
  caller!: LlmCaller;

  /** The task the call is for, when the caller names one (`X-Waggle-Task-Id`). */
  @IsOptional()
  @IsUUID()
  taskId?: string;

  /** `.stream` only: the subject the SSE frames go to (the gateway's private inbox). */
  @IsOptional()
  @IsString()
  @Matches(/^_INBOX\.[A-Za-z0-9_.]+$/)
  streamTo?: string;
}

/** Reply of `.complete`: an HTTP status and body in the caller's API shape. */
export interface LlmCallReply {
  status: number;
  body: unknown;
  /** Headers worth passing on (Retry-After on a budget or rate refusal). */
  headers?: Record<string, string>;
}

/**
 * Frames of a streamed call, in order on `streamTo`: `head` (status; SSE follows when it is
 * 200, else `body` is the error), `data` (SSE text, passed on as is), `end`.
 */
export type LlmStreamFrame =
  | { seq: number; type: 'head'; status: number; body?: unknown; headers?: Record<string, string> }
  | { seq: number; type: 'data'; data: string }
  | { seq: number; type: 'end' };

export interface LlmProviderView {
  name: string;
  kind: LlmProviderKind;
  url: string;
  local: boolean;
  breaker: BreakerState;
  /** Local providers: whether the model list answered at the last probe. */
  healthy: boolean | null;
  /** Over the last 24 hours. */
  requests: number;
  successRate: number | null;
  latencyMs: { p50: number | null; p95: number | null };
  tokens: { input: number; output: number };
  costUsd: number;
}

export interface BreakerView {
  provider: string;
  state: BreakerState;
  consecutiveFailures: number;
  openedAt: string | null;
  /** When an open breaker lets one probe through. */
  retryAt: string | null;
  lastError: string | null;
}

export class FailoverView {
  @IsString()
  id!: string;

  @IsString()
  at!: string;

  @IsString()
  requestId!: string;

  /** The provider that was left. */
  @IsString()
  from!: string;

  /** The provider tried next, if any was left. */
  @Nullable()
  @IsString()
  to!: string | null;

  @IsString()
  reason!: string;

  @Nullable()
  @IsString()
  machineId!: string | null;

  @Nullable()
  @IsString()
  taskId!: string | null;
}

export interface UsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Totals for one UTC day, by provider, by machine and by task. */
export interface LlmSummary {
  day: string;
  total: UsageTotals;
  byProvider: (UsageTotals & { provider: string })[];
  byMachine: (UsageTotals & { machineId: string | null; name: string })[];
  byTask: (UsageTotals & { taskId: string })[];
  budgets: { dailyUsd: number | null; perMachineDailyUsd: number | null; perTaskUsd: number | null };
}

export class LlmSummaryRequest {
  /** UTC day, YYYY-MM-DD (default today). */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'day must be YYYY-MM-DD' })
  day?: string;
}

export class ListFailoversRequest extends PageQuery {}

export class ResetBreakersRequest {
  /** One provider, or every provider when absent. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  provider?: string;
}

/** A request with nothing to say (validation needs one known field to accept `{}`). */
export class EmptyRequest {
  @IsOptional()
  @IsIn([1])
  v?: 1;
}
