import { IsIn, IsObject, IsString, Matches } from 'class-validator';

import type { GithubLinkStatus, GithubOutcome } from './github';
import type { MachineMetrics, MachinePermission } from './machines';
import type { DeliveryState } from './messages';
import type { AssignmentState, SessionState } from './sessions';
import type { TaskState } from './tasks';

/** Data of every task event: which task, its state now, and where it is. */
export interface TaskEventData {
  taskId: string;
  title: string;
  state: TaskState;
  attempt: number;
  machineId?: string;
  reason?: string;
}

/** Data of every GitHub link event: which issue, and its task. */
export interface GithubLinkEventData {
  linkId: string;
  repo: string;
  issueNumber: number;
  taskId: string | null;
}

/** Data of every session event. */
export interface SessionEventData {
  machineId: string;
  machine: string;
  session: string;
  state: SessionState;
  previous: SessionState | null;
  /** The last lines of the screen, when it needs input or finished. */
  excerpt: string | null;
}

/** Data of every assignment event. */
export interface AssignmentEventData {
  assignmentId: string;
  state: AssignmentState;
  attempts: number;
  machineId?: string;
  /** `MACHINE:SESSION` */
  session?: string;
  reason?: string;
}

/** Every domain event type, with its data. `v` of the envelope versions the data shape. */
export interface EventMap {
  'machine.joined': { machineId: string; name: string };
  'machine.online': { machineId: string; name: string };
  'machine.offline': { machineId: string; name: string; lastSeenAt: string | null };
  'machine.revoked': { machineId: string; name: string };
  /** An admin granted or withdrew a permission; `permissions` is what the machine holds now. */
  'machine.permissions_changed': { machineId: string; name: string; permissions: MachinePermission[] };
  /** A message was stored: by a person or a machine (`machineId`: the sending machine), to a machine, `all` or `hub`. */
  'message.sent': { messageId: string; from: string; machineId?: string; to: string };
  'message.delivered': { messageId: string; machineId: string; state: DeliveryState };
  'message.read': { messageId: string; machineId: string; state: DeliveryState };
  'task.queued': TaskEventData;
  'task.assigned': TaskEventData;
  'task.running': TaskEventData;
  'task.succeeded': TaskEventData;
  'task.failed': TaskEventData;
  'task.cancelled': TaskEventData;
  'task.timed_out': TaskEventData;
  'task.retried': TaskEventData;
  /** A running task asked its peers for help. */
  'task.help_requested': { helpId: string; taskId: string; machineId: string; reason: string };
  /** A peer took it: the child task is queued for it. */
  'task.help_accepted': {
    helpId: string;
    taskId: string;
    childTaskId: string;
    helperId: string;
    helper: string;
    etaSeconds: number;
  };
  /** No peer could help; the asking task was told why. */
  'task.help_unanswered': { helpId: string; taskId: string; reasons: string[] };
  /** An LLM call left a provider for the next one in the chain. */
  'llm.failover': {
    requestId: string;
    from: string;
    to: string | null;
    reason: string;
    machineId?: string;
    taskId?: string;
  };
  'llm.circuit_opened': { provider: string; failures: number; lastError: string };
  'llm.circuit_closed': { provider: string };
  /** A labelled issue became a task (exactly one per issue). */
  'github.issue_linked': GithubLinkEventData & { taskId: string };
  /** The status label of a linked issue changed. */
  'github.status_changed': GithubLinkEventData & { status: GithubLinkStatus };
  /** The bot said on the issue which machine claimed its task. */
  'github.issue_claimed': GithubLinkEventData & { machine: string; commentUrl: string };
  /** The task's one outcome was posted (or updated, after a retry). */
  'github.outcome_posted': GithubLinkEventData & { outcome: GithubOutcome; url: string; pullRequestUrl?: string };
  /** GitHub refused what the bot does on an issue (null: the problem is gone); the task's work is kept all the same. */
  'github.problem': GithubLinkEventData & { problem: string | null };
  /** GitHub's rate limit holds the bot back until `until`. */
  'github.rate_limited': { repo: string | null; until: string };
  /** A session appeared or its state changed. */
  'session.state_changed': SessionEventData;
  /** A session needs input or finished: it is in the attention inbox. */
  'attention.raised': SessionEventData;
  /** A session is gone (killed, or its machine no longer reports it). */
  'session.removed': { machineId: string; machine: string; session: string };
  'assignment.queued': AssignmentEventData;
  'assignment.assigned': AssignmentEventData;
  'assignment.in_progress': AssignmentEventData;
  'assignment.completed': AssignmentEventData;
  'assignment.failed': AssignmentEventData;
  'assignment.cancelled': AssignmentEventData;
  /** A tracker feature or bug was made or changed (status, task, pull request, …). */
  'tracker.item_changed': { itemId: string; ref: string; projectId: string; status: string; taskId: string | null };
  /** Events of an error group were stored (one per group per ingest batch, not per event). */
  'error.reported': {
    groupId: string;
    projectId: string;
    title: string;
    status: string;
    count: number;
    /** Events of this group in the batch. */
    added: number;
    newGroup: boolean;
    regressed: boolean;
  };
  /** Not durable: carried on the live subject, not the EVENTS stream. */
  'machine.heartbeat': { machineId: string; name: string; metrics: MachineMetrics };
}

export type EventType = keyof EventMap;
export const EVENT_TYPES = [
  'machine.joined',
  'machine.online',
  'machine.offline',
  'machine.revoked',
  'machine.permissions_changed',
  'message.sent',
  'message.delivered',
  'message.read',
  'task.queued',
  'task.assigned',
  'task.running',
  'task.succeeded',
  'task.failed',
  'task.cancelled',
  'task.timed_out',
  'task.retried',
  'task.help_requested',
  'task.help_accepted',
  'task.help_unanswered',
  'llm.failover',
  'llm.circuit_opened',
  'llm.circuit_closed',
  'github.issue_linked',
  'github.status_changed',
  'github.issue_claimed',
  'github.outcome_posted',
  'github.problem',
  'github.rate_limited',
  'session.state_changed',
  'attention.raised',
  'session.removed',
  'assignment.queued',
  'assignment.assigned',
  'assignment.in_progress',
  'assignment.completed',
  'assignment.failed',
  'assignment.cancelled',
  'tracker.item_changed',
  'error.reported',
  'machine.heartbeat',
] as const satisfies readonly EventType[];

export interface WaggleEvent<T extends EventType = EventType> {
  v: 1;
  /** Unique event id (also the JetStream Nats-Msg-Id). */
  id: string;
  type: T;
  /** ISO time of the state change. */
  at: string;
  data: EventMap[T];
}

/** Envelope check for received events; `data` is trusted once the type is known. */
export class EventEnvelope {
  @IsIn([1])
  v!: 1;

  @IsString()
  @Matches(/^[A-Za-z0-9_-]+$/)
  id!: string;

  @IsIn(EVENT_TYPES)
  type!: EventType;

  @IsString()
  at!: string;

  @IsObject()
  data!: object;
}
