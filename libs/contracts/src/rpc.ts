import type { ErrorBody } from './errors';
import type {
  GithubLinkView,
  ListLinksRequest,
  ListReposRequest,
  RepoRefRequest,
  WatchedRepoCreated,
  WatchedRepoView,
  WatchRepoRequest,
  WebhookDelivery,
  WebhookReply,
} from './github';
import type {
  BreakerView,
  EmptyRequest,
  FailoverView,
  ListFailoversRequest,
  LlmCallReply,
  LlmCallRequest,
  LlmProviderView,
  LlmSummary,
  LlmSummaryRequest,
  ResetBreakersRequest,
} from './llm';
import type {
  CreatedJoinToken,
  CreateJoinTokenRequest,
  JoinRequest,
  JoinResponse,
  ListMachinesRequest,
  MachinePrincipal,
  MachineRefRequest,
  MachineView,
  SetMachinePermissionRequest,
  VerifyMachineTokenRequest,
} from './machines';
import type { ListMessagesRequest, MessageView, SendMessageRequest } from './messages';
import type { GithubStats, RegistryStats, StatsRequest, TaskStats } from './overview';
import type { Page } from './pagination';
import type {
  AssignmentRefRequest,
  AssignmentView,
  AttentionItemView,
  CaptureSessionRequest,
  ClearAssignmentsRequest,
  ClearedReply,
  CreateAssignmentRequest,
  CreateSessionRequest,
  ListAssignmentsRequest,
  ListAttentionRequest,
  ListSessionsRequest,
  ReassignRequest,
  ResizeSessionRequest,
  ScreenView,
  SendToSessionRequest,
  SentReply,
  SessionRefRequest,
  SessionView,
  UnwatchSessionRequest,
  WatchedSession,
  WatchSessionRequest,
} from './sessions';
import type {
  CheckPlacementBody,
  CreateTaskRequest,
  ListTasksRequest,
  PlacementCheck,
  TaskLogsPage,
  TaskLogsRequest,
  TaskRefRequest,
  TaskView,
} from './tasks';
import type {
  CheckSecretRefsRequest,
  CreateSecretRequest,
  ListSecretAuditRequest,
  ListSecretsRequest,
  ResolvedSecret,
  ResolveSecretRequest,
  RotateKeyRequest,
  RotationView,
  SealedReveal,
  SecretAuditView,
  SecretRefRequest,
  SecretRefsCheck,
  SecretView,
  UpdateSecretRequest,
  VaultKeysRequest,
  VaultKeysView,
  VaultTransportKey,
} from './vault';

/** Reply to every Waggle request: data, or an error with a code. */
export type RpcReply<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

/**
 * Hub-internal request/reply subjects and the request and reply type of each. The request
 * class is named by the handler when it decodes; this map types both ends.
 */
export interface RpcMap {
  'waggle.rpc.registry.machines.join': [JoinRequest, JoinResponse];
  'waggle.rpc.registry.machines.list': [ListMachinesRequest, Page<MachineView>];
  'waggle.rpc.registry.machines.get': [MachineRefRequest, MachineView];
  'waggle.rpc.registry.machines.revoke': [MachineRefRequest, MachineView];
  'waggle.rpc.registry.machines.verify-token': [VerifyMachineTokenRequest, MachinePrincipal];
  /** Grants or withdraws one permission; answers the machine as it is now. */
  'waggle.rpc.registry.machines.permissions.set': [SetMachinePermissionRequest, MachineView];
  'waggle.rpc.registry.join-tokens.create': [CreateJoinTokenRequest, CreatedJoinToken];
  'waggle.rpc.registry.messages.send': [SendMessageRequest, MessageView];
  'waggle.rpc.registry.messages.list': [ListMessagesRequest, Page<MessageView>];
  /** Counts for the overview: machines online and not revoked, messages since `since`. */
  'waggle.rpc.registry.stats': [StatsRequest, RegistryStats];
  'waggle.rpc.task-router.tasks.create': [CreateTaskRequest, TaskView];
  'waggle.rpc.task-router.tasks.list': [ListTasksRequest, Page<TaskView>];
  'waggle.rpc.task-router.tasks.get': [TaskRefRequest, TaskView];
  'waggle.rpc.task-router.tasks.cancel': [TaskRefRequest, TaskView];
  'waggle.rpc.task-router.tasks.retry': [TaskRefRequest, TaskView];
  'waggle.rpc.task-router.tasks.logs': [TaskLogsRequest, TaskLogsPage];
  /** Counts for the overview: live tasks, and tasks finished since `since`. */
  'waggle.rpc.task-router.stats': [StatsRequest, TaskStats];
  'waggle.rpc.task-router.tasks.placement': [CheckPlacementBody, PlacementCheck];
  'waggle.rpc.llm-failover.complete': [LlmCallRequest, LlmCallReply];
  /** Answers `{ accepted: true }` at once, then sends LlmStreamFrames to `streamTo`. */
  'waggle.rpc.llm-failover.stream': [LlmCallRequest, { accepted: true }];
  'waggle.rpc.llm-failover.summary': [LlmSummaryRequest, LlmSummary];
  'waggle.rpc.llm-failover.providers': [EmptyRequest, LlmProviderView[]];
  'waggle.rpc.llm-failover.breakers': [EmptyRequest, BreakerView[]];
  'waggle.rpc.llm-failover.breakers.reset': [ResetBreakersRequest, BreakerView[]];
  'waggle.rpc.llm-failover.failovers': [ListFailoversRequest, Page<FailoverView>];
  'waggle.rpc.github-bot.repos.watch': [WatchRepoRequest, WatchedRepoCreated];
  'waggle.rpc.github-bot.repos.list': [ListReposRequest, Page<WatchedRepoView>];
  'waggle.rpc.github-bot.repos.unwatch': [RepoRefRequest, WatchedRepoView];
  'waggle.rpc.github-bot.links.list': [ListLinksRequest, Page<GithubLinkView>];
  /** Counts for the overview: links not finished. */
  'waggle.rpc.github-bot.stats': [StatsRequest, GithubStats];
  /** Verified by the bot against the repository's secret before anything is stored. */
  'waggle.rpc.github-bot.webhook': [WebhookDelivery, WebhookReply];
  'waggle.rpc.sessions.list': [ListSessionsRequest, Page<SessionView>];
  'waggle.rpc.sessions.get': [SessionRefRequest, SessionView];
  'waggle.rpc.sessions.create': [CreateSessionRequest, SessionView];
  'waggle.rpc.sessions.send': [SendToSessionRequest, SentReply];
  'waggle.rpc.sessions.capture': [CaptureSessionRequest, ScreenView];
  'waggle.rpc.sessions.resize': [ResizeSessionRequest, SessionView];
  'waggle.rpc.sessions.kill': [SessionRefRequest, { killed: true }];
  /** Starts or renews a watch of a session's output (the lease ends unless renewed). */
  'waggle.rpc.sessions.watch': [WatchSessionRequest, WatchedSession];
  'waggle.rpc.sessions.unwatch': [UnwatchSessionRequest, WatchedSession];
  'waggle.rpc.sessions.attention.list': [ListAttentionRequest, Page<AttentionItemView>];
  /** Takes a session out of the attention inbox until its state changes again. */
  'waggle.rpc.sessions.attention.dismiss': [SessionRefRequest, { dismissed: true }];
  'waggle.rpc.sessions.assignments.create': [CreateAssignmentRequest, AssignmentView];
  'waggle.rpc.sessions.assignments.list': [ListAssignmentsRequest, Page<AssignmentView>];
  'waggle.rpc.sessions.assignments.get': [AssignmentRefRequest, AssignmentView];
  'waggle.rpc.sessions.assignments.cancel': [AssignmentRefRequest, AssignmentView];
  'waggle.rpc.sessions.assignments.retry': [AssignmentRefRequest, AssignmentView];
  'waggle.rpc.sessions.assignments.reassign': [ReassignRequest, AssignmentView];
  'waggle.rpc.sessions.assignments.clear': [ClearAssignmentsRequest, ClearedReply];
  'waggle.rpc.vault.secrets.create': [CreateSecretRequest, SecretView];
  'waggle.rpc.vault.secrets.list': [ListSecretsRequest, Page<SecretView>];
  'waggle.rpc.vault.secrets.get': [SecretRefRequest, SecretView];
  'waggle.rpc.vault.secrets.update': [UpdateSecretRequest, SecretView];
  'waggle.rpc.vault.secrets.delete': [SecretRefRequest, SecretView];
  /** An admin's reveal: logged in the audit trail and counted. */
  'waggle.rpc.vault.secrets.reveal': [SecretRefRequest, SealedReveal];
  /** The task-router's check at create: every named secret exists in the task's reach. */
  'waggle.rpc.vault.secrets.check': [CheckSecretRefsRequest, SecretRefsCheck];
  /** A hub service reads one of Waggle's own credentials, sealed to its one-time key. */
  'waggle.rpc.vault.secrets.resolve': [ResolveSecretRequest, ResolvedSecret];
  'waggle.rpc.vault.audit.list': [ListSecretAuditRequest, Page<SecretAuditView>];
  'waggle.rpc.vault.keys.status': [VaultKeysRequest, VaultKeysView];
  'waggle.rpc.vault.keys.rotate': [RotateKeyRequest, RotationView];
  /** The public curve key values are sealed to before they travel to the vault. */
  'waggle.rpc.vault.keys.transport': [VaultKeysRequest, VaultTransportKey];
}

export type RpcSubject = keyof RpcMap;
export type RpcRequest<S extends RpcSubject> = RpcMap[S][0];
export type RpcResponse<S extends RpcSubject> = RpcMap[S][1];

export const RegistryRpc = {
  join: 'waggle.rpc.registry.machines.join',
  listMachines: 'waggle.rpc.registry.machines.list',
  getMachine: 'waggle.rpc.registry.machines.get',
  revokeMachine: 'waggle.rpc.registry.machines.revoke',
  verifyMachineToken: 'waggle.rpc.registry.machines.verify-token',
  setMachinePermission: 'waggle.rpc.registry.machines.permissions.set',
  createJoinToken: 'waggle.rpc.registry.join-tokens.create',
  sendMessage: 'waggle.rpc.registry.messages.send',
  listMessages: 'waggle.rpc.registry.messages.list',
  stats: 'waggle.rpc.registry.stats',
} as const satisfies Record<string, RpcSubject>;

export const TaskRouterRpc = {
  create: 'waggle.rpc.task-router.tasks.create',
  list: 'waggle.rpc.task-router.tasks.list',
  get: 'waggle.rpc.task-router.tasks.get',
  cancel: 'waggle.rpc.task-router.tasks.cancel',
  retry: 'waggle.rpc.task-router.tasks.retry',
  logs: 'waggle.rpc.task-router.tasks.logs',
  stats: 'waggle.rpc.task-router.stats',
  /** Where a task could run, without creating it (the visor's create form). */
  checkPlacement: 'waggle.rpc.task-router.tasks.placement',
} as const satisfies Record<string, RpcSubject>;

export const LlmRpc = {
  complete: 'waggle.rpc.llm-failover.complete',
  stream: 'waggle.rpc.llm-failover.stream',
  summary: 'waggle.rpc.llm-failover.summary',
  providers: 'waggle.rpc.llm-failover.providers',
  breakers: 'waggle.rpc.llm-failover.breakers',
  resetBreakers: 'waggle.rpc.llm-failover.breakers.reset',
  failovers: 'waggle.rpc.llm-failover.failovers',
} as const satisfies Record<string, RpcSubject>;

export const GithubRpc = {
  watch: 'waggle.rpc.github-bot.repos.watch',
  listRepos: 'waggle.rpc.github-bot.repos.list',
  unwatch: 'waggle.rpc.github-bot.repos.unwatch',
  listLinks: 'waggle.rpc.github-bot.links.list',
  stats: 'waggle.rpc.github-bot.stats',
  webhook: 'waggle.rpc.github-bot.webhook',
} as const satisfies Record<string, RpcSubject>;

export const SessionsRpc = {
  list: 'waggle.rpc.sessions.list',
  get: 'waggle.rpc.sessions.get',
  create: 'waggle.rpc.sessions.create',
  send: 'waggle.rpc.sessions.send',
  capture: 'waggle.rpc.sessions.capture',
  resize: 'waggle.rpc.sessions.resize',
  kill: 'waggle.rpc.sessions.kill',
  watch: 'waggle.rpc.sessions.watch',
  unwatch: 'waggle.rpc.sessions.unwatch',
  listAttention: 'waggle.rpc.sessions.attention.list',
  dismissAttention: 'waggle.rpc.sessions.attention.dismiss',
} as const satisfies Record<string, RpcSubject>;

export const AssignmentsRpc = {
  create: 'waggle.rpc.sessions.assignments.create',
  list: 'waggle.rpc.sessions.assignments.list',
  get: 'waggle.rpc.sessions.assignments.get',
  cancel: 'waggle.rpc.sessions.assignments.cancel',
  retry: 'waggle.rpc.sessions.assignments.retry',
  reassign: 'waggle.rpc.sessions.assignments.reassign',
  clear: 'waggle.rpc.sessions.assignments.clear',
} as const satisfies Record<string, RpcSubject>;

export const VaultRpc = {
  create: 'waggle.rpc.vault.secrets.create',
  list: 'waggle.rpc.vault.secrets.list',
  get: 'waggle.rpc.vault.secrets.get',
  update: 'waggle.rpc.vault.secrets.update',
  delete: 'waggle.rpc.vault.secrets.delete',
  reveal: 'waggle.rpc.vault.secrets.reveal',
  check: 'waggle.rpc.vault.secrets.check',
  resolve: 'waggle.rpc.vault.secrets.resolve',
  audit: 'waggle.rpc.vault.audit.list',
  keys: 'waggle.rpc.vault.keys.status',
  rotate: 'waggle.rpc.vault.keys.rotate',
  transportKey: 'waggle.rpc.vault.keys.transport',
} as const satisfies Record<string, RpcSubject>;
