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
  /** Messages that exhausted their deliveries, kept for inspection. */
  deadLetter: {
    name: 'WAGGLE_DEAD_LETTER',
    subjects: ['waggle.dlq.>'],
  },
} as const;

export type StreamName = (typeof Streams)[keyof typeof Streams]['name'];

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
} as const;

/** Durable consumer names. */
export const Consumers = {
  /** A machine's inbox consumer on WAGGLE_MESSAGES, filtered to its own inbox subject. */
  inbox: (machineId: string) => `inbox-${machineId}`,
} as const;

/** Queue groups: replicas of one service share the work of a subject. */
export const QueueGroups = {
  registry: 'waggle-registry',
  gateway: 'waggle-gateway',
} as const;

/** Reads the machine id out of a per-machine subject. */
export function machineIdOf(subject: string): string {
  const token = subject.split('.')[MACHINE_ID_TOKEN];
  if (!token || !subject.startsWith('waggle.m.')) throw new Error(`not a machine subject: ${subject}`);
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
export const deadLetterSubject = (stream: string, consumer: string) => `waggle.dlq.${stream}.${consumer}`;
/** Non-durable live feed of heartbeat summaries (hub → dashboards). */
export const LiveSubjects = {
  heartbeat: 'waggle.live.heartbeat',
} as const;
