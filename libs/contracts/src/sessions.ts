import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
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
  ValidateNested,
} from 'class-validator';

import { LABEL_PATTERN } from './machines';
import { TEXT_PATTERN } from './messages';
import { PageQuery } from './pagination';
import { Nullable } from './validation';

/**
 * Agent sessions: long-lived interactive programs (Claude Code, Codex, Gemini CLI, a shell)
 * in tmux on a machine, driven from the hub. Only the machine's own agent touches its tmux:
 * the hub asks it on `waggle.m.<id>.down.sessions.<op>`, and it reports what it sees on
 * `waggle.m.<id>.up.sessions.report`.
 */

/** A session's name: tmux-safe (no `.` or `:`, which tmux reads as window and pane separators). */
export const SESSION_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
export const SESSION_NAME_RULE = 'must be 1-63 letters, digits, "_" or "-", starting with a letter or digit';

/**
 * idle: waiting at its prompt; busy: working; needs_input: a permission prompt or a question;
 * finished: back at its prompt after working (someone should look); exited: its program ended.
 */
export const SESSION_STATES = ['idle', 'busy', 'needs_input', 'finished', 'exited'] as const;
export type SessionState = (typeof SESSION_STATES)[number];
/** States that put a session in the attention inbox. */
export const ATTENTION_STATES: readonly SessionState[] = ['needs_input', 'finished'];

/** Which CLI runs in a session: picks the screen patterns and the hooks. */
export const SESSION_CLIS = ['claude', 'codex', 'gemini', 'shell', 'other'] as const;
export type SessionCli = (typeof SESSION_CLIS)[number];

/** Longest text typed at once, in characters. */
export const MAX_SESSION_TEXT = 16 * 1024;
/** tmux key names (`Enter`, `C-c`, `Escape`, `Up`, `y`, `1`, `F5`, `M-x` …). */
export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,19}$/;
/** Most scrollback lines a capture returns. */
export const MAX_SCROLLBACK_LINES = 5_000;

const NO_CONTROL = { message: 'must not contain control characters other than newline and tab' };

/** POST /api/sessions */
export class CreateSessionBody {
  /** Machine name or id. @example "soda-yeti" */
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  machine!: string;

  /** @example "claude-1" */
  @Matches(SESSION_NAME_PATTERN, { message: `name ${SESSION_NAME_RULE}` })
  name!: string;

  /** The program and its arguments: an argument array, never a shell string. @example ["claude"] */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(4096, { each: true })
  @Matches(/^[^\x00]*$/, { each: true, message: 'command arguments must not contain NUL' })
  command!: string[];

  /** Working directory on the machine (absolute); default the agent's home. @example "/home/me/project" */
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  @Matches(/^\/[^\x00]*$/, { message: 'cwd must be an absolute path' })
  cwd?: string;

  /** Which CLI this is (screen patterns, hooks); default from the program's name. */
  @IsOptional()
  @IsIn(SESSION_CLIS)
  cli?: SessionCli;

  /** Labels the assigner matches (`role=worker`). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @Matches(LABEL_PATTERN, { each: true, message: 'each label must be letters, digits or ._:/=-' })
  labels?: string[];

  /** Terminal size, columns (default 160). */
  @IsOptional()
  @IsInt()
  @Min(20)
  @Max(500)
  width?: number;

  /** Terminal size, rows (default 48). */
  @IsOptional()
  @IsInt()
  @Min(5)
  @Max(200)
  height?: number;

  /**
   * The agent installs Waggle's hooks for this CLI (claude, codex, gemini) in the session's
   * directory first (`waggle hooks install CLI --project CWD`), so its state comes from them
   * and it sees its unread messages.
   */
  @IsOptional()
  @IsBoolean()
  hooks?: boolean;
}

/** POST /api/sessions/:machine/:name/send: text (typed literally), then keys, in that order. */
export class SendToSessionBody {
  /** Typed as is (not interpreted as key names). @example "fix the failing test" */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_SESSION_TEXT)
  @Matches(TEXT_PATTERN, NO_CONTROL)
  text?: string;

  /** tmux key names sent after the text. @example ["Enter"] */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @Matches(KEY_PATTERN, { each: true, message: 'each key must be a tmux key name such as Enter, C-c, Escape, Up, y' })
  keys?: string[];

  /** Press Enter after the text (same as keys: ["Enter"]). */
  @IsOptional()
  @IsBoolean()
  enter?: boolean;
}

/** POST /api/sessions/:machine/:name/resize */
export class ResizeSessionBody {
  @IsInt()
  @Min(20)
  @Max(500)
  width!: number;

  @IsInt()
  @Min(5)
  @Max(200)
  height!: number;
}

/** GET /api/sessions/:machine/:name/screen */
export class CaptureSessionQuery {
  /** Lines of scrollback above the screen (0..5000, default 0). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_SCROLLBACK_LINES)
  scrollback?: number;
}

/** GET /api/sessions */
export class ListSessionsQuery extends PageQuery {
  /** Only this machine's sessions (name or id). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  machine?: string;

  @IsOptional()
  @IsIn(SESSION_STATES)
  state?: SessionState;
}

export class PaneView {
  @IsInt()
  index!: number;

  /** The program in the foreground of the pane (tmux's pane_current_command). */
  @IsString()
  command!: string;

  @IsString()
  cwd!: string;

  @IsInt()
  pid!: number;

  @IsBoolean()
  dead!: boolean;

  @IsInt()
  width!: number;

  @IsInt()
  height!: number;
}

export class WindowView {
  @IsInt()
  index!: number;

  @IsString()
  @MaxLength(200)
  name!: string;

  @IsBoolean()
  active!: boolean;

  @ValidateNested({ each: true })
  @Type(() => PaneView)
  @ArrayMaxSize(64)
  panes!: PaneView[];
}

/** One session as the machine's agent reports it. */
export class SessionReport {
  @Matches(SESSION_NAME_PATTERN)
  name!: string;

  @IsIn(SESSION_CLIS)
  cli!: SessionCli;

  @IsIn(SESSION_STATES)
  state!: SessionState;

  /** When the state last changed (the machine's clock). */
  @IsString()
  stateSince!: string;

  /** Where the state came from: the CLI's own hooks, or the screen. */
  @IsIn(['hook', 'screen'])
  stateSource!: 'hook' | 'screen';

  /** Inputs sent to the session so far (the assigner follows its turn by it). */
  @IsInt()
  @Min(0)
  turn!: number;

  /** Last output, from tmux's window_activity. */
  @IsString()
  activityAt!: string;

  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  command!: string[];

  @IsString()
  @MaxLength(1024)
  cwd!: string;

  @IsArray()
  @ArrayMaxSize(16)
  @Matches(LABEL_PATTERN, { each: true })
  labels!: string[];

  @ValidateNested({ each: true })
  @Type(() => WindowView)
  @ArrayMaxSize(64)
  windows!: WindowView[];

  /** The last lines of the screen (while it needs input or has finished). */
  @Nullable()
  @IsString()
  @MaxLength(8192)
  excerpt!: string | null;

  /** The exit status of its program, once exited. */
  @Nullable()
  @IsInt()
  exitStatus!: number | null;
}

/** `waggle.m.<id>.up.sessions.report`: every session on the machine now (a snapshot, not a diff). */
export class SessionsReportRequest {
  @IsIn([1])
  v!: 1;

  @ValidateNested({ each: true })
  @Type(() => SessionReport)
  @ArrayMaxSize(500)
  sessions!: SessionReport[];
}

export class SessionView extends SessionReport {
  @IsString()
  machineId!: string;

  @IsString()
  machine!: string;

  /** When the hub last heard of it. */
  @IsString()
  updatedAt!: string;
}

/** Where an attention item is answered: a session on a machine. */
export class AttentionItemView {
  @IsString()
  machineId!: string;

  @IsString()
  machine!: string;

  @IsString()
  session!: string;

  @IsIn(SESSION_STATES)
  state!: SessionState;

  @IsString()
  since!: string;

  @IsIn(SESSION_CLIS)
  cli!: SessionCli;

  /** The last lines of its screen. */
  @Nullable()
  @IsString()
  excerpt!: string | null;
}

export class ScreenView {
  /** The screen (and scrollback above it, when asked), plain text, lines joined. */
  @IsString()
  text!: string;

  @IsInt()
  width!: number;

  @IsInt()
  height!: number;

  @IsString()
  capturedAt!: string;
}

// ——— hub-internal requests (waggle.rpc.sessions.*) ———

export class SessionRefRequest {
  /** Machine name or id. */
  @IsString()
  @MaxLength(200)
  machine!: string;

  @Matches(SESSION_NAME_PATTERN, { message: `session ${SESSION_NAME_RULE}` })
  session!: string;
}

export class CreateSessionRequest extends CreateSessionBody {
  @IsIn([1])
  v!: 1;
}

export class SendToSessionRequest extends SendToSessionBody {
  @Matches(/^.{1,200}$/)
  machine!: string;

  @Matches(SESSION_NAME_PATTERN, { message: `session ${SESSION_NAME_RULE}` })
  session!: string;
}

export class ResizeSessionRequest extends ResizeSessionBody {
  @Matches(/^.{1,200}$/)
  machine!: string;

  @Matches(SESSION_NAME_PATTERN, { message: `session ${SESSION_NAME_RULE}` })
  session!: string;
}

export class CaptureSessionRequest extends CaptureSessionQuery {
  @Matches(/^.{1,200}$/)
  machine!: string;

  @Matches(SESSION_NAME_PATTERN, { message: `session ${SESSION_NAME_RULE}` })
  session!: string;
}

export class ListSessionsRequest extends ListSessionsQuery {}

export class ListAttentionRequest extends PageQuery {}

// ——— hub → machine (waggle.m.<id>.down.sessions.<op>) ———

/** Hub → machine: create a session. */
export class MachineCreateSession {
  @IsIn([1])
  v!: 1;

  @Matches(SESSION_NAME_PATTERN)
  name!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(4096, { each: true })
  command!: string[];

  @IsOptional()
  @IsString()
  @MaxLength(1024)
  cwd?: string;

  @IsIn(SESSION_CLIS)
  cli!: SessionCli;

  @IsArray()
  @ArrayMaxSize(16)
  @Matches(LABEL_PATTERN, { each: true })
  labels!: string[];

  @IsInt()
  @Min(20)
  @Max(500)
  width!: number;

  @IsInt()
  @Min(5)
  @Max(200)
  height!: number;

  @IsOptional()
  @IsBoolean()
  hooks?: boolean;
}

/** Hub → machine: which session. */
export class MachineSessionRef {
  @IsIn([1])
  v!: 1;

  @Matches(SESSION_NAME_PATTERN)
  name!: string;
}

export class MachineSendToSession extends SendToSessionBody {
  @IsIn([1])
  v!: 1;

  @Matches(SESSION_NAME_PATTERN)
  name!: string;
}

export class MachineResizeSession extends ResizeSessionBody {
  @IsIn([1])
  v!: 1;

  @Matches(SESSION_NAME_PATTERN)
  name!: string;
}

export class MachineCaptureSession extends CaptureSessionQuery {
  @IsIn([1])
  v!: 1;

  @Matches(SESSION_NAME_PATTERN)
  name!: string;
}

/** Who watches a session's output: a gateway replica's id (one lease each). */
export const WATCHER_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Longest lease a watcher may ask for; it renews well before the lease ends. */
export const MAX_WATCH_LEASE_MS = 120_000;
/** Largest piece of output one message carries, in characters. */
export const MAX_OUTPUT_CHUNK_CHARS = 16 * 1024;

/**
 * Hub → machine: stream this session's output to `waggle.m.<id>.up.sessions.output.<name>`
 * until `leaseMs` from now (renewed by asking again); the agent stops once no watcher renews.
 */
export class MachineWatchSession {
  @IsIn([1])
  v!: 1;

  @Matches(SESSION_NAME_PATTERN)
  name!: string;

  @Matches(WATCHER_PATTERN)
  watcher!: string;

  @IsInt()
  @Min(1_000)
  @Max(MAX_WATCH_LEASE_MS)
  leaseMs!: number;
}

/** Hub → machine: this watcher is gone (the stream stops when it was the last). */
export class MachineUnwatchSession {
  @IsIn([1])
  v!: 1;

  @Matches(SESSION_NAME_PATTERN)
  name!: string;

  @Matches(WATCHER_PATTERN)
  watcher!: string;
}

export interface WatchReply {
  /** Other watchers still hold a lease (after an unwatch), or this one now does (after a watch). */
  watching: boolean;
}

/**
 * Machine → hub, core NATS (lossy by design): a piece of a watched session's terminal output,
 * raw (escape sequences included), on `waggle.m.<id>.up.sessions.output.<name>`. `seq` counts
 * pieces from the stream's start; `dropped` is how many characters the agent's bounded buffer
 * dropped just before this piece (the watcher fell behind, or the program wrote faster).
 */
export class SessionOutputChunk {
  @IsIn([1])
  v!: 1;

  @Matches(SESSION_NAME_PATTERN)
  session!: string;

  @IsInt()
  @Min(0)
  seq!: number;

  @IsString()
  @MaxLength(MAX_OUTPUT_CHUNK_CHARS)
  data!: string;

  @IsInt()
  @Min(0)
  dropped!: number;
}

/** waggle.rpc.sessions.watch (gateway → sessions service): start or renew a watch. */
export class WatchSessionRequest extends SessionRefRequest {
  @Matches(WATCHER_PATTERN)
  watcher!: string;

  @IsInt()
  @Min(1_000)
  @Max(MAX_WATCH_LEASE_MS)
  leaseMs!: number;
}

/** waggle.rpc.sessions.unwatch */
export class UnwatchSessionRequest extends SessionRefRequest {
  @Matches(WATCHER_PATTERN)
  watcher!: string;
}

/** Where a watched session's output arrives. */
export interface WatchedSession extends WatchReply {
  machineId: string;
  machine: string;
  session: string;
  /** The core NATS subject carrying SessionOutputChunk. */
  subject: string;
}

/** A send's answer: the session's turn after it (the assigner follows the turn). */
export interface SentReply {
  turn: number;
}

/** Machine → hub on the local socket's behalf: a CLI hook saw a state change in a session. */
export const HOOK_EVENTS = ['session-start', 'prompt-submit', 'notification', 'stop', 'session-end'] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

// ——— the assigner ———

export const ASSIGNMENT_STATES = ['queued', 'assigned', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
export type AssignmentState = (typeof ASSIGNMENT_STATES)[number];
export const FINAL_ASSIGNMENT_STATES: readonly AssignmentState[] = ['completed', 'failed', 'cancelled'];

/** `MACHINE:SESSION` */
export const SESSION_TARGET_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}:[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** POST /api/assignments */
export class CreateAssignmentBody {
  /** Typed into the session, then Enter. @example "Write the tests for the parser" */
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_SESSION_TEXT)
  @Matches(TEXT_PATTERN, NO_CONTROL)
  prompt!: string;

  /** 0..10, higher first (default 5). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10)
  priority?: number;

  /** One session, `MACHINE:SESSION`. @example "soda-yeti:claude-1" */
  @IsOptional()
  @Matches(SESSION_TARGET_PATTERN, { message: 'target must be MACHINE:SESSION' })
  target?: string;

  /** The session's CLI (claude, codex, gemini, shell). */
  @IsOptional()
  @IsIn(SESSION_CLIS)
  capability?: SessionCli;

  /** Labels the session must carry (`role=worker`). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @Matches(LABEL_PATTERN, { each: true, message: 'each label must be letters, digits or ._:/=-' })
  labels?: string[];

  /** Seconds from being typed in to completing (default 1800). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  timeoutSeconds?: number;

  /** Attempts after the first failure (default 0). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10)
  retries?: number;
}

export class CreateAssignmentRequest extends CreateAssignmentBody {
  @IsIn([1])
  v!: 1;
}

export class ListAssignmentsQuery extends PageQuery {
  @IsOptional()
  @IsIn(ASSIGNMENT_STATES)
  state?: AssignmentState;
}

export class ListAssignmentsRequest extends ListAssignmentsQuery {}

export class AssignmentRefRequest {
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { message: 'id must be a UUID' })
  id!: string;
}

/** POST /api/assignments/:id/reassign */
export class ReassignBody {
  /** Another session, `MACHINE:SESSION`; none: any session that fits. */
  @IsOptional()
  @Matches(SESSION_TARGET_PATTERN, { message: 'target must be MACHINE:SESSION' })
  target?: string;
}

export class ReassignRequest extends ReassignBody {
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { message: 'id must be a UUID' })
  id!: string;
}

/** DELETE /api/assignments: clears finished assignments older than this many seconds. */
export class ClearAssignmentsQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(365 * 24 * 3600)
  olderThanSeconds?: number;
}

export class ClearAssignmentsRequest extends ClearAssignmentsQuery {}

export class AssignmentView {
  @IsString()
  id!: string;

  @IsString()
  prompt!: string;

  @IsInt()
  priority!: number;

  @IsIn(ASSIGNMENT_STATES)
  state!: AssignmentState;

  @Nullable()
  @IsString()
  target!: string | null;

  @Nullable()
  @IsString()
  capability!: string | null;

  @IsArray()
  labels!: string[];

  @IsInt()
  timeoutSeconds!: number;

  @IsInt()
  retries!: number;

  /** Times it was typed into a session. */
  @IsInt()
  attempts!: number;

  /** Where it runs or ran: `MACHINE:SESSION`. */
  @Nullable()
  @IsString()
  session!: string | null;

  @Nullable()
  @IsString()
  reason!: string | null;

  @IsString()
  createdAt!: string;

  @Nullable()
  @IsString()
  assignedAt!: string | null;

  @Nullable()
  @IsString()
  finishedAt!: string | null;
}

export interface ClearedReply {
  cleared: number;
}

/** A CLI hook inside a session tells the machine's agent (over its local socket) what happened. */
export class SessionHookRequest {
  @Matches(SESSION_NAME_PATTERN)
  session!: string;

  @IsIn(HOOK_EVENTS)
  event!: HookEvent;

  /** The CLI's own session id (Claude Code's `session_id`), to resume it after a reboot. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,100}$/)
  cliSessionId?: string;
}
