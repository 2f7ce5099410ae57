/**
 * The typed edges between processes: for every request subject, the class its payload is
 * decoded into (at run time) and the reply it gets (at compile time); for every plain
 * publish, its payload. Handlers and callers are typed from these maps, and the receiving
 * side validates against the class named here: nothing is cast.
 */
import { ListLinksRequest, ListReposRequest, RepoRefRequest, WatchRepoRequest, WebhookDelivery } from './github';
import type { HelpAnswer, HelpQuestion, HelpStatusReply, HelpView } from './help';
import { HelpAskRequest, HelpStatusRequest } from './help';
import { EmptyRequest, ListFailoversRequest, LlmCallRequest, LlmSummaryRequest, ResetBreakersRequest } from './llm';
import type { GoodbyeReply, HelloReply, LiveHeartbeat } from './machines';
import {
  CreateJoinTokenRequest,
  GoodbyeRequest,
  HeartbeatPayload,
  JoinRequest,
  ListMachinesRequest,
  MachineRefRequest,
  SetMachinePermissionRequest,
  VerifyMachineTokenRequest,
} from './machines';
import type { ReceiptReply } from './messages';
import { InboxMessage, ListMessagesRequest, ReceiptRequest, SendMessageRequest } from './messages';
import { StatsRequest } from './overview';
import type { RpcRequest, RpcSubject } from './rpc';
import type { ScreenView, SentReply, SessionReport, WatchReply } from './sessions';
import {
  AssignmentRefRequest,
  CaptureSessionRequest,
  ClearAssignmentsRequest,
  CreateAssignmentRequest,
  CreateSessionRequest,
  ListAssignmentsRequest,
  ListAttentionRequest,
  ListSessionsRequest,
  MachineCaptureSession,
  MachineCreateSession,
  MachineResizeSession,
  MachineSendToSession,
  MachineSessionRef,
  MachineUnwatchSession,
  MachineWatchSession,
  ReassignRequest,
  ResizeSessionRequest,
  SendToSessionRequest,
  SessionRefRequest,
  SessionsReportRequest,
  UnwatchSessionRequest,
  WatchSessionRequest,
} from './sessions';
import { MachineSubjects, MachineWildcards } from './subjects';
import type { TaskLeaseReply, TaskReleaseReply } from './tasks';
import {
  CancelSignal,
  CheckPlacementBody,
  CreateTaskRequest,
  ListTasksRequest,
  LogChunk,
  TaskAssignment,
  TaskLeaseRequest,
  TaskLogsRequest,
  TaskRefRequest,
  TaskResultRequest,
} from './tasks';
import type { ProjectNotes, ProjectNotesRequest } from './tracker';
import { ReposReport, TrackerRpcRequestTypes } from './tracker';
import type { IngestErrorsReply } from './error-groups';
import { ErrorsRpcRequestTypes, MachineErrorReport } from './error-groups';
import type { Constructor } from './validation';
import type { SealedSecrets } from './vault';
import {
  CheckSecretRefsRequest,
  CreateSecretRequest,
  ListSecretAuditRequest,
  ListSecretsRequest,
  OpenSecretsRequest,
  ResolveSecretRequest,
  RotateKeyRequest,
  SecretRefRequest,
  UpdateSecretRequest,
  VaultKeysRequest,
} from './vault';

/** The class each hub-internal request is decoded into; the compiler checks none is missing. */
export const RpcRequestTypes: { readonly [S in RpcSubject]: Constructor<RpcRequest<S> & object> } = {
  'waggle.rpc.registry.machines.join': JoinRequest,
  'waggle.rpc.registry.machines.list': ListMachinesRequest,
  'waggle.rpc.registry.machines.get': MachineRefRequest,
  'waggle.rpc.registry.machines.revoke': MachineRefRequest,
  'waggle.rpc.registry.machines.verify-token': VerifyMachineTokenRequest,
  'waggle.rpc.registry.machines.permissions.set': SetMachinePermissionRequest,
  'waggle.rpc.registry.join-tokens.create': CreateJoinTokenRequest,
  'waggle.rpc.registry.messages.send': SendMessageRequest,
  'waggle.rpc.registry.messages.list': ListMessagesRequest,
  'waggle.rpc.registry.stats': StatsRequest,
  'waggle.rpc.task-router.tasks.create': CreateTaskRequest,
  'waggle.rpc.task-router.tasks.list': ListTasksRequest,
  'waggle.rpc.task-router.tasks.get': TaskRefRequest,
  'waggle.rpc.task-router.tasks.cancel': TaskRefRequest,
  'waggle.rpc.task-router.tasks.retry': TaskRefRequest,
  'waggle.rpc.task-router.tasks.logs': TaskLogsRequest,
  'waggle.rpc.task-router.stats': StatsRequest,
  'waggle.rpc.task-router.tasks.placement': CheckPlacementBody,
  'waggle.rpc.llm-failover.complete': LlmCallRequest,
  'waggle.rpc.llm-failover.stream': LlmCallRequest,
  'waggle.rpc.llm-failover.summary': LlmSummaryRequest,
  'waggle.rpc.llm-failover.providers': EmptyRequest,
  'waggle.rpc.llm-failover.breakers': EmptyRequest,
  'waggle.rpc.llm-failover.breakers.reset': ResetBreakersRequest,
  'waggle.rpc.llm-failover.failovers': ListFailoversRequest,
  'waggle.rpc.github-bot.repos.watch': WatchRepoRequest,
  'waggle.rpc.github-bot.repos.list': ListReposRequest,
  'waggle.rpc.github-bot.repos.unwatch': RepoRefRequest,
  'waggle.rpc.github-bot.links.list': ListLinksRequest,
  'waggle.rpc.github-bot.stats': StatsRequest,
  'waggle.rpc.github-bot.webhook': WebhookDelivery,
  'waggle.rpc.sessions.list': ListSessionsRequest,
  'waggle.rpc.sessions.get': SessionRefRequest,
  'waggle.rpc.sessions.create': CreateSessionRequest,
  'waggle.rpc.sessions.send': SendToSessionRequest,
  'waggle.rpc.sessions.capture': CaptureSessionRequest,
  'waggle.rpc.sessions.resize': ResizeSessionRequest,
  'waggle.rpc.sessions.kill': SessionRefRequest,
  'waggle.rpc.sessions.watch': WatchSessionRequest,
  'waggle.rpc.sessions.unwatch': UnwatchSessionRequest,
  'waggle.rpc.sessions.attention.list': ListAttentionRequest,
  'waggle.rpc.sessions.attention.dismiss': SessionRefRequest,
  'waggle.rpc.sessions.assignments.create': CreateAssignmentRequest,
  'waggle.rpc.sessions.assignments.list': ListAssignmentsRequest,
  'waggle.rpc.sessions.assignments.get': AssignmentRefRequest,
  'waggle.rpc.sessions.assignments.cancel': AssignmentRefRequest,
  'waggle.rpc.sessions.assignments.retry': AssignmentRefRequest,
  'waggle.rpc.sessions.assignments.reassign': ReassignRequest,
  'waggle.rpc.sessions.assignments.clear': ClearAssignmentsRequest,
  ...TrackerRpcRequestTypes,
  'waggle.rpc.vault.secrets.create': CreateSecretRequest,
  'waggle.rpc.vault.secrets.list': ListSecretsRequest,
  'waggle.rpc.vault.secrets.get': SecretRefRequest,
  'waggle.rpc.vault.secrets.update': UpdateSecretRequest,
  'waggle.rpc.vault.secrets.delete': SecretRefRequest,
  'waggle.rpc.vault.secrets.reveal': SecretRefRequest,
  'waggle.rpc.vault.secrets.check': CheckSecretRefsRequest,
  'waggle.rpc.vault.secrets.resolve': ResolveSecretRequest,
  'waggle.rpc.vault.audit.list': ListSecretAuditRequest,
  'waggle.rpc.vault.keys.status': VaultKeysRequest,
  'waggle.rpc.vault.keys.rotate': RotateKeyRequest,
  'waggle.rpc.vault.keys.transport': VaultKeysRequest,
  ...ErrorsRpcRequestTypes,
};

/**
 * Requests a machine sends on its own `waggle.m.<id>.up.*` subjects, by name: the request
 * and the reply. The hub serves them on the wildcard of the same name in MachineWildcards,
 * and takes the machine's id from the subject, which NATS permissions vouch for.
 */
export interface MachineRequestMap {
  hello: [HeartbeatPayload, HelloReply];
  delivered: [ReceiptRequest, ReceiptReply];
  read: [ReceiptRequest, ReceiptReply];
  taskClaim: [TaskLeaseRequest, TaskLeaseReply];
  taskRenew: [TaskLeaseRequest, TaskLeaseReply];
  taskResult: [TaskResultRequest, { recorded: true }];
  taskRelease: [TaskLeaseRequest, TaskReleaseReply];
  goodbye: [GoodbyeRequest, GoodbyeReply];
  helpAsk: [HelpAskRequest, HelpView];
  helpStatus: [HelpStatusRequest, HelpStatusReply];
  sessionsReport: [SessionsReportRequest, { recorded: number }];
  repos: [ReposReport, { recorded: number }];
  /** The secrets of a running attempt, sealed to the machine's curve key (served by the vault). */
  secretsOpen: [OpenSecretsRequest, SealedSecrets];
  errors: [MachineErrorReport, IngestErrorsReply];
}

export type MachineRequestName = keyof MachineRequestMap;
export type MachineRequestOf<N extends MachineRequestName> = MachineRequestMap[N][0];
export type MachineReplyOf<N extends MachineRequestName> = MachineRequestMap[N][1];

export const MachineRequestTypes: { readonly [N in MachineRequestName]: Constructor<MachineRequestOf<N>> } = {
  hello: HeartbeatPayload,
  delivered: ReceiptRequest,
  read: ReceiptRequest,
  taskClaim: TaskLeaseRequest,
  taskRenew: TaskLeaseRequest,
  taskResult: TaskResultRequest,
  taskRelease: TaskLeaseRequest,
  goodbye: GoodbyeRequest,
  helpAsk: HelpAskRequest,
  helpStatus: HelpStatusRequest,
  sessionsReport: SessionsReportRequest,
  repos: ReposReport,
  secretsOpen: OpenSecretsRequest,
  errors: MachineErrorReport,
};

/** Requests the hub sends down to one machine (`waggle.m.<id>.down.*`), answered on the reply subject. */
export interface HubToMachineRequestMap {
  helpQuestion: [HelpQuestion, HelpAnswer];
  projectNotes: [ProjectNotesRequest, ProjectNotes];
}

/** The hub's requests on a machine's sessions (`waggle.m.<id>.down.sessions.<op>`): payload and reply. */
export interface SessionOpMap {
  create: [MachineCreateSession, SessionReport];
  send: [MachineSendToSession, SentReply];
  capture: [MachineCaptureSession, ScreenView];
  resize: [MachineResizeSession, SessionReport];
  kill: [MachineSessionRef, { killed: true }];
  watch: [MachineWatchSession, WatchReply];
  unwatch: [MachineUnwatchSession, WatchReply];
}

/** The class the agent decodes each session request into. */
export const SessionOpTypes: { readonly [O in keyof SessionOpMap]: Constructor<SessionOpMap[O][0]> } = {
  create: MachineCreateSession,
  send: MachineSendToSession,
  capture: MachineCaptureSession,
  resize: MachineResizeSession,
  kill: MachineSessionRef,
  watch: MachineWatchSession,
  unwatch: MachineUnwatchSession,
};

/**
 * Plain publishes (core NATS or JetStream) by name: the payload each carries. Subjects come
 * from MachineSubjects, whose function of the same name takes the machine id (and the task
 * id for logs).
 */
export interface PublishMap {
  /** Machine → hub, core NATS: lossy by design. */
  heartbeat: HeartbeatPayload;
  /** Hub → machine, core NATS. */
  cancel: CancelSignal;
  /** Hub → machine inbox, JetStream (via the outbox). */
  inbox: InboxMessage;
  /** Hub → machine task assignment, JetStream (via the outbox). */
  tasks: TaskAssignment;
  /** Machine → hub task output, JetStream. */
  taskLogs: LogChunk;
}

export type PublishName = keyof PublishMap;

/** The class a receiver decodes each publish into. */
export const PublishTypes: { readonly [N in PublishName]: Constructor<PublishMap[N]> } = {
  heartbeat: HeartbeatPayload,
  cancel: CancelSignal,
  inbox: InboxMessage,
  tasks: TaskAssignment,
  taskLogs: LogChunk,
};

/** Machine events the hub consumes on a wildcard (no reply expected). */
export const MachineEventWildcards = {
  heartbeat: MachineWildcards.heartbeat,
} as const satisfies Partial<Record<PublishName, string>>;

export type MachineEventName = keyof typeof MachineEventWildcards;

/** The subject of a machine request for one machine. */
export function machineRequestSubject(name: MachineRequestName, machineId: string): string {
  return MachineSubjects[name](machineId);
}

/** Every request pattern a hub service may serve, with the class its payload decodes into. */
export function requestTypeOf(pattern: string): Constructor<object> | undefined {
  if (pattern in RpcRequestTypes) {
    return RpcRequestTypes[pattern as RpcSubject];
  }
  for (const [name, wildcard] of Object.entries(MachineWildcards)) {
    if (wildcard === pattern && name in MachineRequestTypes) {
      return MachineRequestTypes[name as MachineRequestName];
    }
  }
  for (const [name, wildcard] of Object.entries(MachineEventWildcards)) {
    if (wildcard === pattern) {
      return PublishTypes[name as MachineEventName];
    }
  }
  return undefined;
}

/** Live, lossy hub → dashboard feeds (core NATS), by name: the payload each carries. */
export interface LivePublishMap {
  heartbeat: LiveHeartbeat;
  /** A log chunk the task-router accepted, as followers see it. */
  taskLogs: LogChunk;
}
