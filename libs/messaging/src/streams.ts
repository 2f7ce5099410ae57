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
  const stream = (
    spec: { name: string; subjects: readonly string[] },
    limits: Partial<StreamConfig>,
  ): Partial<StreamConfig> => ({
    name: spec.name,
    subjects: [...spec.subjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: options.replicas,
    discard: DiscardPolicy.Old,
    ...limits,
  });
  // Dedup window for Nats-Msg-Id: the outbox relay re-sends within it without duplicating.
  const dedup = { duplicate_window: nanos(10 * 60 * 1000) };
  return [
    // A machine may be off for weeks; Postgres keeps history for ever, this only carries delivery.
    stream(Streams.messages, { max_age: nanos(90 * DAY), max_msg_size: 256 * 1024, ...dedup }),
    stream(Streams.events, { max_age: nanos(7 * DAY), max_bytes: 1024 * 1024 * 1024, ...dedup }),
    stream(Streams.tasks, { max_age: nanos(30 * DAY), ...dedup }),
    // Postgres keeps the accepted chunks (bounded per task); the stream only carries them.
    stream(Streams.logs, { max_age: nanos(DAY), max_bytes: 2 * 1024 * 1024 * 1024, max_msg_size: 128 * 1024 }),
    // Carries each change to the tracker, which keeps the log (90 days) in Postgres.
    stream(Streams.activity, { max_age: nanos(7 * DAY), max_bytes: 512 * 1024 * 1024, ...dedup }),
    stream(Streams.deadLetter, { max_age: nanos(30 * DAY) }),
  ];
}

/** A JetStream API error saying the stream or consumer does not exist. */
export function isNotFound(error: unknown): boolean {
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
      if (!isNotFound(error)) {
        throw error;
      }
      try {
        await jsm.streams.add(config);
      } catch (addError) {
        // Another replica created it between our info and add.
        if (!/already in use|exists/i.test(String(addError))) {
          throw addError;
        }
      }
    }
  }
}

/**
 * The durable consumers of one machine (its inbox and its task assignments), each filtered
 * to the machine's own subject. Created by the hub; the machine only pulls and acks.
 */
export function machineConsumerConfigs(
  machineId: string,
): { stream: string; durable: string; filter: string; config: Partial<ConsumerConfig> }[] {
  const consumer = (stream: string, durable: string, filter: string, extra: Partial<ConsumerConfig> = {}) => ({
    stream,
    durable,
    filter,
    config: {
      durable_name: durable,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(30_000),
      max_deliver: -1,
      ...extra,
    },
  });
  return [
    consumer(Streams.messages.name, Consumers.inbox(machineId), MachineSubjects.inbox(machineId), {
      max_ack_pending: 10_000,
    }),
    consumer(Streams.tasks.name, Consumers.tasks(machineId), MachineSubjects.tasks(machineId)),
  ];
}

/** Creates (or updates) the machine's consumers; idempotent, also after a lost JetStream store. */
export async function ensureMachineConsumers(jsm: JetStreamManager, machineId: string): Promise<void> {
  for (const { stream, config } of machineConsumerConfigs(machineId)) {
    await jsm.consumers.add(stream, config);
  }
}

/** Deletes the machine's consumers and drops what was stored for it (after it is revoked). */
export async function removeMachineConsumers(jsm: JetStreamManager, machineId: string): Promise<void> {
  for (const { stream, durable, filter } of machineConsumerConfigs(machineId)) {
    try {
      await jsm.consumers.delete(stream, durable);
    } catch (error) {
      if (!isNotFound(error)) {
        throw error;
      }
    }
    await jsm.streams.purge(stream, { filter });
  }
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
  const nc = await connectNats({
    servers: options.servers.split(','),
    name: options.name,
    creds: options.creds,
    onStatus: options.onStatus,
  });
  await provisionStreams(await nc.jetstreamManager(), { replicas: options.replicas });
  return nc;
}

/** A hub service's NATS connection as a Nest provider under `token`. */
export function hubConnectionProvider(token: symbol, options: HubConnectionOptions): Provider {
  return { provide: token, useFactory: (): Promise<NatsConnection> => connectHubService(options) };
}
