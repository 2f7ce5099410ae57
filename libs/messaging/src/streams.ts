import type { Provider } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType } from 'nats';
import type { ConsumerConfig, JetStreamManager, NatsConnection, StreamConfig } from 'nats';

import { Consumers, MachineSubjects, Streams } from '@waggle/contracts';

import { connectNats } from './connection';

const nanos = (ms: number) => ms * 1_000_000;
const DAY = 24 * 3600 * 1000;

export interface StreamOptions {
  /** JetStream replicas (1 on one server, 3 on a cluster). */
  replicas: number;
}

/** Streams declared in code; provisioned idempotently by every hub service at start-up. */
export function streamConfigs(options: StreamOptions): Partial<StreamConfig>[] {
  return [
    {
      name: Streams.messages.name,
      subjects: [...Streams.messages.subjects],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: options.replicas,
      // A machine may be off for weeks; Postgres keeps history for ever, this only carries delivery.
      max_age: nanos(90 * DAY),
      max_msg_size: 256 * 1024,
      // Dedup window for Nats-Msg-Id: the outbox relay re-sends within it without duplicating.
      duplicate_window: nanos(10 * 60 * 1000),
      discard: DiscardPolicy.Old,
    },
    {
      name: Streams.events.name,
      subjects: [...Streams.events.subjects],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: options.replicas,
      max_age: nanos(7 * DAY),
      max_bytes: 1024 * 1024 * 1024,
      duplicate_window: nanos(10 * 60 * 1000),
      discard: DiscardPolicy.Old,
    },
    {
      name: Streams.tasks.name,
      subjects: [...Streams.tasks.subjects],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: options.replicas,
      max_age: nanos(30 * DAY),
      duplicate_window: nanos(10 * 60 * 1000),
      discard: DiscardPolicy.Old,
    },
    {
      name: Streams.logs.name,
      subjects: [...Streams.logs.subjects],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: options.replicas,
      // Postgres keeps the accepted chunks (bounded per task); the stream only carries them.
      max_age: nanos(DAY),
      max_bytes: 2 * 1024 * 1024 * 1024,
      max_msg_size: 128 * 1024,
      discard: DiscardPolicy.Old,
    },
    {
      name: Streams.deadLetter.name,
      subjects: [...Streams.deadLetter.subjects],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: options.replicas,
      max_age: nanos(30 * DAY),
      discard: DiscardPolicy.Old,
    },
  ];
}

function isNotFound(error: unknown): boolean {
  const e = error as { api_error?: { err_code?: number }; code?: string };
  return e.api_error?.err_code === 10059 || e.api_error?.err_code === 10014 || e.code === '404';
}

/** Creates each stream, or updates it to the declared config. Safe to run from every replica. */
export async function provisionStreams(jsm: JetStreamManager, options: StreamOptions): Promise<void> {
  for (const config of streamConfigs(options)) {
    const name = config.name!;
    try {
      await jsm.streams.info(name);
      await jsm.streams.update(name, config);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await jsm.streams.add(config);
      } catch (addError) {
        // Another replica created it between our info and add.
        if (!/already in use|exists/i.test(String(addError))) throw addError;
      }
    }
  }
}

export function inboxConsumerConfig(machineId: string): Partial<ConsumerConfig> {
  return {
    durable_name: Consumers.inbox(machineId),
    filter_subject: MachineSubjects.inbox(machineId),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(30_000),
    max_deliver: -1,
    max_ack_pending: 10_000,
  };
}

export function taskConsumerConfig(machineId: string): Partial<ConsumerConfig> {
  return {
    durable_name: Consumers.tasks(machineId),
    filter_subject: MachineSubjects.tasks(machineId),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(30_000),
    max_deliver: -1,
  };
}

/** The durable consumer a machine takes task assignments from. Created by the hub. */
export async function ensureTaskConsumer(jsm: JetStreamManager, machineId: string): Promise<void> {
  await jsm.consumers.add(Streams.tasks.name, taskConsumerConfig(machineId));
}

/** The durable consumer a machine reads its inbox from. Created by the hub; the machine only pulls. */
export async function ensureInboxConsumer(jsm: JetStreamManager, machineId: string): Promise<void> {
  await jsm.consumers.add(Streams.messages.name, inboxConsumerConfig(machineId));
}

export async function deleteInboxConsumer(jsm: JetStreamManager, machineId: string): Promise<void> {
  try {
    await jsm.consumers.delete(Streams.messages.name, Consumers.inbox(machineId));
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Drops every stored inbox message of a machine (after it is revoked). */
export async function purgeInbox(jsm: JetStreamManager, machineId: string): Promise<void> {
  await jsm.streams.purge(Streams.messages.name, { filter: MachineSubjects.inbox(machineId) });
}

export interface HubConnectionOptions {
  servers: string;
  name: string;
  creds?: string;
  replicas: number;
  onStatus: (status: { type: string; data?: unknown }) => void;
}

/** A hub service's connection: connected (for ever retrying), with every stream provisioned. */
export async function connectHubService(options: HubConnectionOptions): Promise<NatsConnection> {
  const nc = await connectNats({ servers: options.servers.split(','), name: options.name, creds: options.creds, onStatus: options.onStatus });
  await provisionStreams(await nc.jetstreamManager(), { replicas: options.replicas });
  return nc;
}

/** A hub service's NATS connection as a Nest provider under `token`. */
export function hubConnectionProvider(token: symbol, options: HubConnectionOptions): Provider {
  return { provide: token, useFactory: (): Promise<NatsConnection> => connectHubService(options) };
}
