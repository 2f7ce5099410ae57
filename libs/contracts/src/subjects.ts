/**
 * Every NATS subject, stream and durable consumer Waggle uses. App code never writes a
 * subject string: it takes it from here.
 *
 * RENAMING ANYTHING HERE BREAKS CONSUMERS IN FLIGHT: messages already stored under the old
 * subject are no longer matched, and machines running an older agent stop hearing the hub.
 * Add a new subject (and a new payload version) instead, and retire the old one later.
 *
 * Layout: `waggle.m.<machineId>.…` is everything a machine publishes or consumes — the
 * machine id is always token 2 (0-based), so NATS permissions can grant a machine exactly
 * `waggle.m.<its id>.>` and nothing of any other machine. `waggle.rpc.<service>.…` are
 * hub-internal request/reply subjects; `waggle.events.<type>` are domain events.
 */

/** Position of the machine id in every per-machine subject. */
export const MACHINE_ID_TOKEN = 2;

export const Streams = {
  /** Per-machine inboxes: one message per recipient, kept until consumed and acked. */
  messages: {
    name: 'WAGGLE_MESSAGES',
    subjects: ['waggle.m.*.inbox'],
  },
  /** Domain events (machine.online, message.delivered, …); the gateway pushes them to /ws. */
  events: {
    name: 'WAGGLE_EVENTS',
    subjects: ['waggle.events.>'],
  },
  /** Task assignments, one durable consumer per machine: a task for an offline machine waits. */
  tasks: {
    name: 'WAGGLE_TASKS',
    subjects: ['waggle.m.*.tasks'],
  },
  /** Task output in chunks, per machine and task; bounded by size and age. */
  logs: {
    name: 'WAGGLE_LOGS',
    subjects: ['waggle.m.*.logs.>'],
  },
  /** Every change made through the API, published by the gateway; the tracker keeps the activity log. */
  activity: {
    name: 'WAGGLE_ACTIVITY',
    subjects: ['waggle.activity.>'],
  },
  /** Messages that exhausted their deliveries, kept for inspection. */
  deadLetter: {
    name: 'WAGGLE_DEAD_LETTER',
    subjects: ['waggle.dlq.>'],
  },
} as const;

export type StreamName = (typeof Streams)[keyof typeof Streams]['name'];

/** Key-value buckets (JetStream KV), declared in code like the streams. */
export const KvBuckets = {
  /**
   * The gateway's rate-limit counters: each replica puts its own count per key and window,
   * and watches the others'. Kept in memory, for a few minutes: losing it only resets counts.
   */
  rateLimits: { name: 'WAGGLE_RATE_LIMITS', ttlMs: 3 * 60_000 },
} as const;

/** Subjects of one machine. `up.*` flow from the machine to the hub, `inbox` to the machine. */
export const MachineSubjects = {
  /** Messages for the machine (JetStream, stream WAGGLE_MESSAGES). */
  inbox: (machineId: string) => `waggle.m.${machineId}.inbox`,
  /** Periodic heartbeat with metrics (core NATS; lossy by design). */
  heartbeat: (machineId: string) => `waggle.m.${machineId}.up.heartbeat`,
  /** Request: the machine (re)introduces itself after connecting. */
  hello: (machineId: string) => `waggle.m.${machineId}.up.hello`,
  /** Request: the machine has stored these messages. */
  delivered: (machineId: string) => `waggle.m.${machineId}.up.delivered`,
  /** Request: a person or hook on the machine read these messages. */
  read: (machineId: string) => `waggle.m.${machineId}.up.read`,
  /** Task assignments for the machine (JetStream, stream WAGGLE_TASKS). */
  tasks: (machineId: string) => `waggle.m.${machineId}.tasks`,
  /** Request: claim an assigned task (fenced by attempt). */
  taskClaim: (machineId: string) => `waggle.m.${machineId}.up.task.claim`,
  /** Request: renew the lease of a running task. */
  taskRenew: (machineId: string) => `waggle.m.${machineId}.up.task.renew`,
  /** Request: the final result of an attempt. */
  taskResult: (machineId: string) => `waggle.m.${machineId}.up.task.result`,
  /** Request: a stopping machine hands back an attempt it will not finish (queued again at once). */
  taskRelease: (machineId: string) => `waggle.m.${machineId}.up.task.release`,
  /** Request: the machine stops; offline at once rather than after missed heartbeats. */
  goodbye: (machineId: string) => `waggle.m.${machineId}.up.goodbye`,
  /** Request: a running attempt asks for help from a peer (fenced by attempt). */
  helpAsk: (machineId: string) => `waggle.m.${machineId}.up.help.ask`,
  /** Request: how the help an attempt asked for is going (its child task). */
  helpStatus: (machineId: string) => `waggle.m.${machineId}.up.help.status`,
  /** Request: the git repositories under the machine's source folders (the tracker keeps them). */
  repos: (machineId: string) => `waggle.m.${machineId}.up.repos`,
  /** Request: the secrets of a running attempt, sealed to this machine's curve key (the vault answers). */
  secretsOpen: (machineId: string) => `waggle.m.${machineId}.up.secrets.open`,
  /** Request: an error of the machine itself or a task's crash (the tracker keeps it in the hub's own project). */
  errors: (machineId: string) => `waggle.m.${machineId}.up.errors`,
  /** Output of a task (JetStream, stream WAGGLE_LOGS). */
  taskLogs: (machineId: string, taskId: string) => `waggle.m.${machineId}.logs.${taskId}`,
  /** Everything the machine may publish as logs. */
  logsAll: (machineId: string) => `waggle.m.${machineId}.logs.>`,
  /** Hub → machine pushes (cancel). */
  cancel: (machineId: string) => `waggle.m.${machineId}.down.cancel`,
  /** Hub → machine request: can you help a peer, and when? (answered on the reply subject). */
  helpQuestion: (machineId: string) => `waggle.m.${machineId}.down.help`,
  /** Hub → machine request: what a checkout says about its work (README, TODO/FIXME), for a plan. */
  projectNotes: (machineId: string) => `waggle.m.${machineId}.down.notes`,
  downAll: (machineId: string) => `waggle.m.${machineId}.down.>`,
  /** Hub → machine request on one of its sessions (`op`: one of SESSION_OPS); only the machine's own agent can hear it. */
  sessions: (machineId: string, op: SessionOp) => `waggle.m.${machineId}.down.sessions.${op}`,
  /** Every session request for the machine (the agent's one subscription). */
  sessionsAll: (machineId: string) => `waggle.m.${machineId}.down.sessions.*`,
  /** Request: every session on the machine now, with its state (a snapshot). */
  sessionsReport: (machineId: string) => `waggle.m.${machineId}.up.sessions.report`,
  /** Core NATS: a watched session's terminal output (SessionOutputChunk). */
  sessionOutput: (machineId: string, session: string) => `waggle.m.${machineId}.up.sessions.output.${session}`,
  /** Everything a machine may publish (for permissions). */
  upAll: (machineId: string) => `waggle.m.${machineId}.up.>`,
  /** Reply inbox prefix of a machine's connection: replies to it and only it land here. */
  replyPrefix: (machineId: string) => `_INBOX_${machineId.replaceAll('-', '')}`,
} as const;

/** Wildcards the hub subscribes to, with the machine id in token 2. */
export const MachineWildcards = {
  heartbeat: 'waggle.m.*.up.heartbeat',
  hello: 'waggle.m.*.up.hello',
  delivered: 'waggle.m.*.up.delivered',
  read: 'waggle.m.*.up.read',
  taskClaim: 'waggle.m.*.up.task.claim',
  taskRenew: 'waggle.m.*.up.task.renew',
  taskResult: 'waggle.m.*.up.task.result',
  taskRelease: 'waggle.m.*.up.task.release',
  goodbye: 'waggle.m.*.up.goodbye',
  helpAsk: 'waggle.m.*.up.help.ask',
  helpStatus: 'waggle.m.*.up.help.status',
  sessionsReport: 'waggle.m.*.up.sessions.report',
  repos: 'waggle.m.*.up.repos',
  secretsOpen: 'waggle.m.*.up.secrets.open',
  errors: 'waggle.m.*.up.errors',
} as const;

/** What the hub may ask of a machine's sessions. */
export const SESSION_OPS = ['create', 'send', 'capture', 'resize', 'kill', 'watch', 'unwatch'] as const;
export type SessionOp = (typeof SESSION_OPS)[number];

/** Durable consumer names. */
export const Consumers = {
  /** A machine's inbox consumer on WAGGLE_MESSAGES, filtered to its own inbox subject. */
  inbox: (machineId: string) => `inbox-${machineId}`,
  /** A machine's task consumer on WAGGLE_TASKS. */
  tasks: (machineId: string) => `tasks-${machineId}`,
  /** The task-router's consumer of every machine's logs. */
  logs: 'task-router-logs',
  /** The GitHub bot's consumer of task events (shared by its replicas): wakes the sync of a linked issue. */
  githubTaskEvents: 'github-bot-task-events',
  /** The tracker's consumer of task events (shared by its replicas): moves the items linked to tasks. */
  trackerTaskEvents: 'tracker-task-events',
  /** The tracker's consumer of the API's activity (shared by its replicas). */
  trackerActivity: 'tracker-activity',
  /** The tracker's consumer of issues the GitHub bot linked: each becomes a bug of the project. */
  trackerGithubLinks: 'tracker-github-links',
} as const;

/** Queue groups: replicas of one service share the work of a subject. */
export const QueueGroups = {
  registry: 'waggle-registry',
  taskRouter: 'waggle-task-router',
  llmFailover: 'waggle-llm-failover',
  githubBot: 'waggle-github-bot',
  tracker: 'waggle-tracker',
  gateway: 'waggle-gateway',
  sessions: 'waggle-sessions',
  vault: 'waggle-vault',
} as const;

/** Core (not stored) broadcasts between gateway replicas. */
export const GatewaySubjects = {
  /** An API token was revoked (payload: `{ "tokenId": "…" }`): every replica drops its cached copy. */
  tokenRevoked: 'waggle.gateway.token-revoked',
} as const;

/** Reads the machine id out of a per-machine subject. */
export function machineIdOf(subject: string): string {
  const token = subject.split('.')[MACHINE_ID_TOKEN];
  if (!token || !subject.startsWith('waggle.m.')) {
    throw new Error(`not a machine subject: ${subject}`);
  }
  return token;
}

/** NATS header names Waggle sets. */
export const Headers = {
  correlationId: 'Waggle-Correlation-Id',
  schemaVersion: 'Waggle-Schema',
  msgId: 'Nats-Msg-Id',
} as const;

/** Subject of a domain event. */
export const eventSubject = (type: string) => `waggle.events.${type}`;
/** Every task event (task.queued, task.running, …). */
export const TASK_EVENTS_FILTER = 'waggle.events.task.>';
/** A change made through the API (`waggle.activity.api`), from the gateway. */
export const ACTIVITY_SUBJECT = 'waggle.activity.api';
export const deadLetterSubject = (stream: string, consumer: string) => `waggle.dlq.${stream}.${consumer}`;
/** Non-durable live feed of heartbeat summaries (hub → dashboards). */
export const LiveSubjects = {
  heartbeat: 'waggle.live.heartbeat',
  /** Log chunks of a task as they are accepted (for followers). */
  taskLogs: (taskId: string) => `waggle.live.logs.${taskId}`,
  taskLogsAll: 'waggle.live.logs.*',
} as const;
