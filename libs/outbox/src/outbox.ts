import type { JetStreamClient } from 'nats';
import type { DataSource, EntityManager } from 'typeorm';

import type { EventMap, EventType, PublishMap, WaggleEvent } from '@waggle/contracts';
import { eventSubject, MachineSubjects } from '@waggle/contracts';
import { encodeJson, outgoingHeaders } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { currentCorrelationId } from '@waggle/observability';
import { NotificationListener, singleRow } from '@waggle/persistence';

/** An outbox row to be published: `msgId` becomes the JetStream Nats-Msg-Id. */
export interface OutboxEntry {
  subject: string;
  payload: unknown;
  msgId: string;
}

/** DDL for a service's outbox table, for its own migration. */
export function outboxTableSql(schema: string): string[] {
  return [
    `CREATE TABLE "${schema}"."outbox" (
      "id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      "subject" text NOT NULL,
      "payload" jsonb NOT NULL,
      "msg_id" text NOT NULL,
      "correlation_id" text,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "sent_at" timestamptz
    )`,
    `CREATE INDEX "outbox_unsent" ON "${schema}"."outbox" ("id") WHERE "sent_at" IS NULL`,
  ];
}

export function event<T extends EventType>(id: string, type: T, data: EventMap[T], at = new Date()): OutboxEntry {
  const payload: WaggleEvent<T> = { v: 1, id, type, at: at.toISOString(), data };
  return { subject: eventSubject(type), payload, msgId: id };
}

/** The channel a service's relays LISTEN on; a commit that added outbox rows notifies it. */
export function outboxChannel(schema: string): string {
  return `waggle_outbox_${schema}`;
}

/**
 * Writes outbox rows in the caller's transaction, in one statement, so the state change
 * and the message announcing it commit together or not at all. The same statement notifies
 * the service's relays (delivered at commit): whichever replica holds the relay lock wakes.
 */
export async function addToOutbox(manager: EntityManager, schema: string, entries: OutboxEntry[]): Promise<void> {
  if (!entries.length) {
    return;
  }
  const correlationId = currentCorrelationId() ?? null;
  const chunk = 1000;
  for (let start = 0; start < entries.length; start += chunk) {
    const part = entries.slice(start, start + chunk);
    const params: unknown[] = [outboxChannel(schema)];
    const values = part.map((e, i) => {
      params.push(e.subject, JSON.stringify(e.payload), e.msgId, correlationId);
      const b = 1 + i * 4;
      return `($${b + 1}, $${b + 2}::jsonb, $${b + 3}, $${b + 4})`;
    });
    await manager.query(
      `INSERT INTO "${schema}"."outbox" ("subject", "payload", "msg_id", "correlation_id")
       SELECT v.* FROM (VALUES ${values.join(', ')}) AS v, (SELECT pg_notify($1, '')) AS n`,
      params,
    );
  }
}

export interface OutboxRelayOptions {
  dataSource: DataSource;
  js: JetStreamClient;
  schema: string;
  logger: Logger;
  /**
   * How often to look for rows nobody relayed (a replica crashed between commit and publish):
   * a safety net, since commits wake the relay (default 30 s; 1 s if it cannot LISTEN).
   */
  intervalMs?: number;
  batchSize?: number;
  /** How long relayed rows are kept before the prune deletes them (default a day). */
  retentionMs?: number;
  /** How often the prune runs (default hourly). */
  pruneIntervalMs?: number;
  onRelayed?: (count: number) => void;
  onPruned?: (count: number) => void;
  /** A publish failed (JetStream down, or a stream it lost): the rows stay queued for the next pass. */
  onPublishFailed?: (error: unknown) => void;
}

interface OutboxRow {
  id: string;
  subject: string;
  payload: unknown;
  msg_id: string;
  correlation_id: string | null;
}

/**
 * Publishes outbox rows to JetStream in id order and marks them sent once JetStream
 * acknowledged them. One relay at a time across replicas (advisory lock); a row that
 * failed stays unsent and is re-sent on the next pass with the same Nats-Msg-Id, so the
 * stream's dedup window drops a repeat. Woken by commits (its own, and other replicas'
 * through LISTEN/NOTIFY), after a failure a second later, otherwise it does not poll.
 */
export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private listener?: NotificationListener;
  private running = false;
  private again = false;
  private stopped = false;
  private failed = false;
  private readonly lockKey: string;

  constructor(private readonly options: OutboxRelayOptions) {
    this.lockKey = `${options.schema}.outbox`;
  }

  start(): void {
    const url = (this.options.dataSource.options as { url?: string }).url;
    if (url) {
      this.listener = new NotificationListener({
        url,
        channel: outboxChannel(this.options.schema),
        applicationName: `${this.options.schema}-outbox`,
        onNotify: () => this.kick(),
        onListening: () => this.kick(),
        onError: (error) => this.options.logger.warn({ err: error }, 'outbox listener lost Postgres; reconnecting'),
      });
      this.listener.start();
    }
    this.timer = setInterval(() => this.kick(), this.options.intervalMs ?? (url ? 30_000 : 1000));
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retry);
    await this.listener?.stop();
    while (this.running) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Relay now (called after a commit that added rows, or a notification of one). */
  kick(): void {
    if (this.stopped) {
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
      if (this.stopped) {
        return;
      }
      if (this.again) {
        this.again = false;
        this.kick();
      } else if (this.failed && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.kick();
        }, 1000);
      }
    });
  }

  private async drain(): Promise<void> {
    this.failed = false;
    try {
      while (!this.stopped && (await this.relayBatch()) > 0) {
        // keep going while full batches come back
      }
    } catch (error) {
      this.failed = true;
      this.options.logger.warn({ err: error }, 'outbox relay pass failed; will retry');
    }
  }

  /** One batch; returns how many rows were published. */
  async relayBatch(): Promise<number> {
    const { dataSource, js, schema } = this.options;
    const batchSize = this.options.batchSize ?? 500;
    return dataSource.transaction(async (manager) => {
      const lock = await manager.query<{ locked: boolean }[]>(
        'SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked',
        [this.lockKey],
      );
      if (!singleRow(lock, 'outbox lock').locked) {
        return 0;
      }
      const rows = await manager.query<OutboxRow[]>(
        `SELECT "id", "subject", "payload", "msg_id", "correlation_id" FROM "${schema}"."outbox" WHERE "sent_at" IS NULL ORDER BY "id" LIMIT $1`,
        [batchSize],
      );
      if (!rows.length) {
        return 0;
      }
      const results = await Promise.allSettled(
        rows.map((row) =>
          js.publish(row.subject, encodeJson(row.payload), {
            msgID: row.msg_id,
            headers: outgoingHeaders(undefined, row.correlation_id ?? undefined),
            timeout: 10_000,
          }),
        ),
      );
      const sent = rows.filter((_, i) => results[i]?.status === 'fulfilled').map((row) => row.id);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (sent.length) {
        await manager.query(`UPDATE "${schema}"."outbox" SET "sent_at" = now() WHERE "id" = ANY($1::bigint[])`, [sent]);
      }
      if (failed) {
        this.failed = true;
        this.options.onPublishFailed?.(failed.reason);
        this.options.logger.warn(
          { err: failed.reason as unknown, unsent: rows.length - sent.length },
          'outbox publish failed; rows stay queued',
        );
      }
      this.options.onRelayed?.(sent.length);
      return failed ? 0 : sent.length === batchSize ? sent.length : 0;
    });
  }

  /** Deletes rows relayed longer ago than `olderThanMs`; returns how many. */
  async prune(olderThanMs: number): Promise<number> {
    const [, deleted] = await this.options.dataSource.query<[unknown[], number]>(
      `DELETE FROM "${this.options.schema}"."outbox" WHERE "sent_at" IS NOT NULL AND "sent_at" < now() - ($1::double precision * interval '1 millisecond')`,
      [olderThanMs],
    );
    return deleted;
  }
}

export interface TransactionResult<T> {
  result: T;
  /** Messages announcing the change; committed with it, relayed after. */
  outbox: OutboxEntry[];
}

/**
 * Runs a state change and its outbox rows in one transaction, then wakes the relay. Owns the
 * outbox's whole life: the relay, and the prune that keeps the table from growing for ever.
 */
export class OutboxTransactions {
  private readonly relay: OutboxRelay;
  private pruneTimer?: NodeJS.Timeout;

  constructor(private readonly options: OutboxRelayOptions) {
    this.relay = new OutboxRelay(options);
  }

  start(): void {
    this.relay.start();
    this.pruneTimer = setInterval(() => void this.prune(), this.options.pruneIntervalMs ?? 3600_000);
  }

  stop(): Promise<void> {
    clearInterval(this.pruneTimer);
    return this.relay.stop();
  }

  /** Nest calls these by name: a subclass registered as a provider relays from boot to shutdown. */
  onApplicationBootstrap(): void {
    this.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  /** Relay now (JetStream is back, or a stream was provisioned again). */
  relayNow(): void {
    this.relay.kick();
  }

  async run<T>(work: (manager: EntityManager) => Promise<TransactionResult<T>>): Promise<T> {
    const { result, outbox } = await this.options.dataSource.transaction(async (manager) => {
      const done = await work(manager);
      await addToOutbox(manager, this.options.schema, done.outbox);
      return done;
    });
    if (outbox.length) {
      this.relay.kick();
    }
    return result;
  }

  /** Removes relayed rows older than the retention (a day by default: the streams dedup within minutes). */
  async prune(): Promise<void> {
    try {
      const deleted = await this.relay.prune(this.options.retentionMs ?? 24 * 3600_000);
      if (deleted) {
        this.options.onPruned?.(deleted);
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'outbox prune failed; will retry');
    }
  }
}

/** An outbox row for one machine's JetStream subject (its inbox or its task queue), typed by contracts' PublishMap. */
export function machineEntry<N extends 'inbox' | 'tasks'>(
  name: N,
  machineId: string,
  payload: PublishMap[N],
  msgId: string,
): OutboxEntry {
  return { subject: MachineSubjects[name](machineId), payload, msgId };
}
