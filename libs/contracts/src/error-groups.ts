import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
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

import { Sender } from './messages';
import type { Page } from './pagination';
import { PageQuery } from './pagination';
import type { WorkItemView } from './tracker';
import { AssignBody } from './tracker';
import type { Constructor } from './validation';

/**
 * Errors grouped like Sentry (issue 17): Sentry SDKs and scripts send events with a
 * project's ingest key; the tracker groups them by fingerprint, keeps counts and the latest
 * events, and turns a group into a bug an agent can fix.
 */

export const ERROR_GROUP_STATUSES = ['unresolved', 'resolved', 'ignored', 'regressed'] as const;
export type ErrorGroupStatus = (typeof ERROR_GROUP_STATUSES)[number];
/** What a person may set; `regressed` is the hub's own (a resolved group seen again). */
export const SETTABLE_ERROR_STATUSES = ['unresolved', 'resolved', 'ignored'] as const;
export const ERROR_GROUP_SORTS = ['last_seen', 'count', 'first_seen'] as const;
export type ErrorGroupSort = (typeof ERROR_GROUP_SORTS)[number];
export const ERROR_LEVELS = ['fatal', 'error', 'warning', 'info', 'debug'] as const;
export type ErrorLevel = (typeof ERROR_LEVELS)[number];
/** How an ingest request's body is read. */
export const INGEST_KINDS = ['envelope', 'store', 'plain'] as const;
export type IngestKind = (typeof INGEST_KINDS)[number];

/** Largest ingest body, in bytes, as sent and after decompression. */
export const INGEST_BODY_LIMIT = 1024 * 1024;
/** Largest sum of the events of one request passed on to the tracker (under NATS's 1 MB message). */
export const INGEST_EVENTS_LIMIT = 900 * 1024;
/** An ingest key as it appears in a DSN (32 hex characters, like Sentry's public keys). */
export const INGEST_KEY_PATTERN = /^[0-9a-f]{32}$/;

/** POST /api/errors: an error reported by a script (with an ingest key, not an API token). */
export class ReportErrorBody {
  /** @example "TypeError" */
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  type!: string;

  /** @example "cannot read properties of undefined (reading 'id')" */
  @IsString()
  @MaxLength(8000)
  message!: string;

  /** The machine it happened on (kept as the `machine` tag). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  node?: string;

  /** What reported it (a script, a service). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  source?: string;

  /** The stack trace as text (V8's or Python's format is read into frames). */
  @IsOptional()
  @IsString()
  @MaxLength(100_000)
  stack?: string;

  @IsOptional()
  @IsIn(ERROR_LEVELS)
  level?: ErrorLevel;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  release?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  environment?: string;

  /** Up to 50 string tags. @example {"region":"lab"} */
  @IsOptional()
  @IsObject()
  tags?: Record<string, string>;

  /** Groups events by these instead of the stack trace (`{{ default }}` stands for the usual fingerprint). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  fingerprint?: string[];
}

/** The project a hub's own errors go to (made on the first report). */
export const HUB_ERRORS_PROJECT = 'waggle-hub';

/** machine → tracker (`waggle.m.<id>.up.errors`): the agent's own failure or a task's crash; the machine is vouched by the subject. */
export class MachineErrorReport {
  @IsIn([1])
  v!: 1;

  @ValidateNested()
  @Type(() => ReportErrorBody)
  report!: ReportErrorBody;
}

/** gateway → tracker: one ingest request, checked against the key there. */
export class IngestErrorsRequest {
  @IsIn([1])
  v!: 1;

  @IsIn(INGEST_KINDS)
  kind!: IngestKind;

  /** The ingest key (from `X-Sentry-Auth`, `sentry_key` or `X-Waggle-Ingest-Key`). */
  @IsString()
  @MaxLength(200)
  key!: string;

  /** The project number in the DSN's path (Sentry's project id); absent for `plain`. */
  @IsOptional()
  @IsInt()
  @Min(1)
  projectNumber?: number;

  /**
   * The Sentry events of the request (the envelope's `event` items, or the store body), as
   * sent; the tracker reads them leniently and bounds every field.
   */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsObject({ each: true })
  events?: Record<string, unknown>[];

  /** The report, for `plain`. */
  @IsOptional()
  @ValidateNested()
  @Type(() => ReportErrorBody)
  report?: ReportErrorBody;
}

export class IngestErrorsReply {
  /** The (first) event's id, as Sentry answers. */
  @IsString()
  id!: string;

  /** Events stored or counted. */
  @IsInt()
  accepted!: number;
}

export class StackFrameView {
  @IsOptional()
  @IsString()
  module?: string;

  @IsOptional()
  @IsString()
  function?: string;

  @IsOptional()
  @IsString()
  filename?: string;

  @IsOptional()
  @IsInt()
  lineno?: number;

  @IsOptional()
  @IsInt()
  colno?: number;

  @IsOptional()
  inApp?: boolean;
}

export class ExceptionView {
  @IsString()
  type!: string;

  @IsString()
  value!: string;

  /** Outermost call first, the frame that threw last (Sentry's order). */
  @ValidateNested({ each: true })
  @Type(() => StackFrameView)
  frames!: StackFrameView[];
}

/** A bug made of a group, with its agent's pull request when one opened. */
export class ErrorGroupBugView {
  @IsString()
  id!: string;

  @IsString()
  ref!: string;

  @IsString()
  status!: string;

  @IsOptional()
  @IsString()
  taskId!: string | null;

  @IsOptional()
  @IsString()
  pullRequestUrl!: string | null;
}

export class ErrorGroupView {
  @IsUUID()
  id!: string;

  @IsUUID()
  projectId!: string;

  @IsString()
  projectKey!: string;

  /** "Type: message", or the message. */
  @IsString()
  title!: string;

  /** Where it happened: the innermost in-app frame. */
  @IsString()
  culprit!: string;

  @IsString()
  type!: string;

  @IsIn(ERROR_LEVELS)
  level!: ErrorLevel;

  @IsIn(ERROR_GROUP_STATUSES)
  status!: ErrorGroupStatus;

  /** Events seen (those over the spike limit too, though they are not kept). */
  @IsInt()
  count!: number;

  @IsString()
  firstSeen!: string;

  @IsString()
  lastSeen!: string;

  /** Machines (`server_name` or the `machine` tag) it was seen on, up to 200. */
  @IsString({ each: true })
  machines!: string[];

  @IsString({ each: true })
  releases!: string[];

  /** Ignored until this time… */
  @IsOptional()
  @IsString()
  ignoreUntil!: string | null;

  /** …or until the count reaches this. */
  @IsOptional()
  @IsInt()
  ignoreUntilCount!: number | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => ErrorGroupBugView)
  bug!: ErrorGroupBugView | null;
}

export class ErrorEventView {
  @IsString()
  id!: string;

  @IsUUID()
  groupId!: string;

  @IsString()
  receivedAt!: string;

  @IsString()
  occurredAt!: string;

  @IsIn(ERROR_LEVELS)
  level!: ErrorLevel;

  @IsOptional()
  @IsString()
  machine!: string | null;

  @IsOptional()
  @IsString()
  release!: string | null;

  @IsOptional()
  @IsString()
  environment!: string | null;

  @IsString()
  message!: string;

  @ValidateNested({ each: true })
  @Type(() => ExceptionView)
  exceptions!: ExceptionView[];

  @IsObject()
  tags!: Record<string, string>;

  /** The request, user, contexts, extra and breadcrumbs sent, with secrets replaced by `[Filtered]`. */
  @IsObject()
  context!: Record<string, unknown>;
}

/** GET /api/errors */
export class ListErrorGroupsQuery extends PageQuery {
  /** A project's key or id. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  project?: string;

  @IsOptional()
  @IsIn(ERROR_GROUP_STATUSES)
  status?: ErrorGroupStatus;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  machine?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  release?: string;

  /** Text in the title or culprit. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  /** Newest last seen first (default), most events first, or newest first seen first. */
  @IsOptional()
  @IsIn(ERROR_GROUP_SORTS)
  sort?: ErrorGroupSort;
}

export class ListErrorGroupsRequest extends ListErrorGroupsQuery {}

export class ErrorGroupRefRequest {
  @IsUUID()
  groupId!: string;
}

export class ListErrorEventsRequest extends PageQuery {
  @IsUUID()
  groupId!: string;
}

/** PATCH /api/errors/:id */
export class UpdateErrorGroupBody {
  @IsIn(SETTABLE_ERROR_STATUSES)
  status!: (typeof SETTABLE_ERROR_STATUSES)[number];

  /** With `ignored`: unignore at this time. */
  @IsOptional()
  @IsISO8601()
  ignoreUntil?: string;

  /** With `ignored`: unignore after this many more events. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  ignoreCount?: number;
}

export class UpdateErrorGroupRequest extends UpdateErrorGroupBody {
  @IsIn([1])
  v!: 1;

  @IsUUID()
  groupId!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

/** POST /api/errors/:id/merge: these groups become part of this one, for their future events too. */
export class MergeErrorGroupsBody {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsUUID('all', { each: true })
  groups!: string[];
}

export class MergeErrorGroupsRequest extends MergeErrorGroupsBody {
  @IsIn([1])
  v!: 1;

  @IsUUID()
  groupId!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class ErrorBugRequest {
  @IsIn([1])
  v!: 1;

  @IsUUID()
  groupId!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

/** POST /api/errors/:id/fix: the group's bug (made if there is none) handed to an agent. */
export class FixErrorGroupRequest extends AssignBody {
  @IsIn([1])
  v!: 1;

  @IsUUID()
  groupId!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

/** POST /api/projects/:project/ingest-keys */
export class CreateIngestKeyBody {
  /** @example "web app" */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name?: string;

  /** Events a minute this key may send (default: the tracker's WAGGLE_TRACKER_INGEST_RATE_PER_MINUTE). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  ratePerMinute?: number;
}

export class CreateIngestKeyRequest extends CreateIngestKeyBody {
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

export class ListIngestKeysRequest extends PageQuery {
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  project!: string;
}

export class IngestKeyRefRequest {
  @IsUUID()
  keyId!: string;

  @ValidateNested()
  @Type(() => Sender)
  actor!: Sender;
}

export class IngestKeyView {
  @IsUUID()
  id!: string;

  @IsUUID()
  projectId!: string;

  /** The project's number in DSNs (Sentry's numeric project id). */
  @IsInt()
  projectNumber!: number;

  @IsString()
  name!: string;

  /** The key's first 8 characters, to tell keys apart. */
  @IsString()
  prefix!: string;

  @IsInt()
  ratePerMinute!: number;

  @IsString()
  createdAt!: string;

  @IsString()
  createdBy!: string;

  @IsOptional()
  @IsString()
  revokedAt!: string | null;
}

/** The key itself is in this reply only (the tracker keeps its hash). */
export class IngestKeyCreated extends IngestKeyView {
  @Matches(INGEST_KEY_PATTERN)
  key!: string;

  /** `http(s)://KEY@HOST/NUMBER`, for any Sentry SDK (the gateway fills it from the request's host). */
  @IsString()
  dsn!: string;
}

export const ErrorsRpc = {
  ingest: 'waggle.rpc.tracker.errors.ingest',
  list: 'waggle.rpc.tracker.errors.list',
  get: 'waggle.rpc.tracker.errors.get',
  events: 'waggle.rpc.tracker.errors.events',
  update: 'waggle.rpc.tracker.errors.update',
  merge: 'waggle.rpc.tracker.errors.merge',
  bug: 'waggle.rpc.tracker.errors.bug',
  fix: 'waggle.rpc.tracker.errors.fix',
  createKey: 'waggle.rpc.tracker.errors.keys.create',
  listKeys: 'waggle.rpc.tracker.errors.keys.list',
  revokeKey: 'waggle.rpc.tracker.errors.keys.revoke',
} as const;

declare module './rpc' {
  interface RpcMap {
    /** Answered once the events are committed (a batch shared with concurrent requests). */
    'waggle.rpc.tracker.errors.ingest': [IngestErrorsRequest, IngestErrorsReply];
    'waggle.rpc.tracker.errors.list': [ListErrorGroupsRequest, Page<ErrorGroupView>];
    'waggle.rpc.tracker.errors.get': [ErrorGroupRefRequest, ErrorGroupView];
    'waggle.rpc.tracker.errors.events': [ListErrorEventsRequest, Page<ErrorEventView>];
    'waggle.rpc.tracker.errors.update': [UpdateErrorGroupRequest, ErrorGroupView];
    'waggle.rpc.tracker.errors.merge': [MergeErrorGroupsRequest, ErrorGroupView];
    /** Makes the group's bug (once; the same bug after). */
    'waggle.rpc.tracker.errors.bug': [ErrorBugRequest, WorkItemView];
    /** Makes the group's bug if needed and assigns it like `POST /api/bugs/:id/assign`. */
    'waggle.rpc.tracker.errors.fix': [FixErrorGroupRequest, WorkItemView];
    'waggle.rpc.tracker.errors.keys.create': [CreateIngestKeyRequest, Omit<IngestKeyCreated, 'dsn'>];
    'waggle.rpc.tracker.errors.keys.list': [ListIngestKeysRequest, Page<IngestKeyView>];
    'waggle.rpc.tracker.errors.keys.revoke': [IngestKeyRefRequest, IngestKeyView];
  }
}

export const ErrorsRpcRequestTypes = {
  'waggle.rpc.tracker.errors.ingest': IngestErrorsRequest,
  'waggle.rpc.tracker.errors.list': ListErrorGroupsRequest,
  'waggle.rpc.tracker.errors.get': ErrorGroupRefRequest,
  'waggle.rpc.tracker.errors.events': ListErrorEventsRequest,
  'waggle.rpc.tracker.errors.update': UpdateErrorGroupRequest,
  'waggle.rpc.tracker.errors.merge': MergeErrorGroupsRequest,
  'waggle.rpc.tracker.errors.bug': ErrorBugRequest,
  'waggle.rpc.tracker.errors.fix': FixErrorGroupRequest,
  'waggle.rpc.tracker.errors.keys.create': CreateIngestKeyRequest,
  'waggle.rpc.tracker.errors.keys.list': ListIngestKeysRequest,
  'waggle.rpc.tracker.errors.keys.revoke': IngestKeyRefRequest,
} as const satisfies Record<(typeof ErrorsRpc)[keyof typeof ErrorsRpc], Constructor<object>>;
