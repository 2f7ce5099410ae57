import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type { DeliveryState, MessageView, Page, Sender, SenderKind } from '@waggle/contracts';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor } from '@waggle/contracts';
import type { IdempotentTable } from '@waggle/persistence';
import { findByIdempotencyKey, singleRow, updateReturning } from '@waggle/persistence';

interface MessageRow {
  id: string;
  sender_kind: SenderKind;
  sender_machine_id: string | null;
  sender_name: string;
  to_spec: string;
  body: string;
  created_at: Date;
}

interface DeliveryRow {
  message_id: string;
  machine_id: string;
  name: string;
  state: DeliveryState;
  delivered_at: Date | null;
  read_at: Date | null;
}

/** A message still queued for a machine (same columns as a message row). */
export type QueuedDelivery = MessageRow;

/** A send's Idempotency-Key stays on its message for the key's lifetime. */
export const MESSAGE_KEYS: IdempotentTable = { table: '"registry"."messages"', createdAt: 'created_at' };

const isCursor = (v: unknown): v is { id: string } =>
  typeof v === 'object' && v !== null && /^\d+$/.test(String((v as { id: unknown }).id));

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function senderOf(row: Pick<MessageRow, 'sender_kind' | 'sender_machine_id' | 'sender_name'>): Sender {
  return row.sender_kind === 'machine'
    ? { kind: 'machine', machineId: row.sender_machine_id ?? undefined, name: row.sender_name }
    : { kind: row.sender_kind, name: row.sender_name };
}

/** Messages and their per-recipient delivery state. Plain SQL: this is the hot path. */
@Injectable()
export class MessageRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insertMessage(
    manager: EntityManager,
    from: Sender,
    to: string,
    body: string,
    idempotency?: { key: string; fingerprint: string | null },
  ): Promise<{ id: string; createdAt: Date } | undefined> {
    const rows = await manager.query<{ id: string; created_at: Date }[]>(
      `INSERT INTO "registry"."messages" ("sender_kind", "sender_machine_id", "sender_name", "to_spec", "body", "idempotency_key", "idempotency_fingerprint")
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT ("idempotency_key") WHERE "idempotency_key" IS NOT NULL DO NOTHING
       RETURNING "id", "created_at"`,
      [
        from.kind,
        from.machineId ?? null,
        from.name,
        to,
        body,
        idempotency?.key ?? null,
        idempotency?.fingerprint ?? null,
      ],
    );
    // No row: a send with the same idempotency key was stored first.
    const [row] = rows;
    return row ? { id: String(row.id), createdAt: row.created_at } : undefined;
  }

  /**
   * Many messages in one statement; returns each one's id and time in the order given (ids
   * are taken in row order, so they grow in the order of `messages`).
   */
  async insertMessages(
    manager: EntityManager,
    messages: { from: Sender; to: string; body: string }[],
  ): Promise<{ id: string; createdAt: Date }[]> {
    const rows = await manager.query<{ id: string; created_at: Date }[]>(
      `INSERT INTO "registry"."messages" ("sender_kind", "sender_machine_id", "sender_name", "to_spec", "body")
       SELECT u.kind, u.machine_id, u.name, u.to_spec, u.body
       FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(kind, machine_id, name, to_spec, body, n)
       ORDER BY u.n
       RETURNING "id", "created_at"`,
      [
        messages.map((m) => m.from.kind),
        messages.map((m) => m.from.machineId ?? null),
        messages.map((m) => m.from.name),
        messages.map((m) => m.to),
        messages.map((m) => m.body),
      ],
    );
    // The identity is drawn row by row in insertion order: sorted ids line up with the input.
    return rows
      .map((r) => ({ id: BigInt(r.id), createdAt: r.created_at }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((r) => ({ id: String(r.id), createdAt: r.createdAt }));
  }

  /** Deliveries of many messages in one statement. */
  async insertDeliveryPairs(manager: EntityManager, pairs: { messageId: string; machineId: string }[]): Promise<void> {
    if (!pairs.length) {
      return;
    }
    await manager.query(
      `INSERT INTO "registry"."deliveries" ("message_id", "machine_id") SELECT * FROM unnest($1::bigint[], $2::uuid[])`,
      [pairs.map((p) => p.messageId), pairs.map((p) => p.machineId)],
    );
  }

  async insertDeliveries(manager: EntityManager, messageId: string, machineIds: string[]): Promise<void> {
    if (!machineIds.length) {
      return;
    }
    await manager.query(
      `INSERT INTO "registry"."deliveries" ("message_id", "machine_id") SELECT $1::bigint, unnest($2::uuid[])`,
      [messageId, machineIds],
    );
  }

  /** Moves deliveries forward (queued → delivered, or → read); returns the message ids that changed. */
  async advance(
    manager: EntityManager,
    machineId: string,
    messageIds: string[],
    to: 'delivered' | 'read',
  ): Promise<string[]> {
    const sql =
      to === 'delivered'
        ? `UPDATE "registry"."deliveries" SET "state" = 'delivered', "delivered_at" = now()
           WHERE "machine_id" = $1 AND "message_id" = ANY($2::bigint[]) AND "state" = 'queued' RETURNING "message_id"`
        : `UPDATE "registry"."deliveries" SET "state" = 'read', "read_at" = now(), "delivered_at" = COALESCE("delivered_at", now())
           WHERE "machine_id" = $1 AND "message_id" = ANY($2::bigint[]) AND "state" <> 'read' RETURNING "message_id"`;
    const rows = await updateReturning<{ message_id: string }>(manager, sql, [machineId, messageIds]);
    return rows.map((r) => String(r.message_id));
  }

  async countQueued(machineId: string): Promise<number> {
    const rows = await this.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "registry"."deliveries" WHERE "machine_id" = $1 AND "state" = 'queued'`,
      [machineId],
    );
    return singleRow(rows, 'count queued deliveries').n;
  }

  async findQueued(machineId: string): Promise<QueuedDelivery[]> {
    return await this.dataSource.query<QueuedDelivery[]>(
      `SELECT m.* FROM "registry"."deliveries" d JOIN "registry"."messages" m ON m."id" = d."message_id"
       WHERE d."machine_id" = $1 AND d."state" = 'queued' ORDER BY m."id"`,
      [machineId],
    );
  }

  /** Newest first; `machineId` keeps messages sent to or by that machine. */
  /** The message a send with this (live) idempotency key stored, and the fingerprint of that send. */
  async findByIdempotencyKey(
    key: string,
    ttlSeconds: number,
  ): Promise<{ message: MessageView; fingerprint: string | null } | undefined> {
    const row = await findByIdempotencyKey<{ id: string; idempotency_fingerprint: string | null }>(
      this.dataSource,
      MESSAGE_KEYS,
      key,
      ttlSeconds,
    );
    const message = row ? (await this.list(1, undefined, undefined, String(row.id))).items[0] : undefined;
    return row && message ? { message, fingerprint: row.idempotency_fingerprint } : undefined;
  }

  async list(
    limit = DEFAULT_PAGE_SIZE,
    cursor?: string,
    machineId?: string,
    messageId?: string,
    toHub = false,
  ): Promise<Page<MessageView>> {
    const after = decodeCursor(cursor, isCursor);
    const params: unknown[] = [limit + 1];
    const where: string[] = toHub ? [`m."to_spec" = 'hub'`] : [];
    if (messageId) {
      params.push(messageId);
      where.push(`m."id" = $${params.length}::bigint`);
    }
    if (after) {
      params.push(after.id);
      where.push(`m."id" < $${params.length}::bigint`);
    }
    if (machineId) {
      params.push(machineId);
      const p = `$${params.length}::uuid`;
      where.push(
        `(m."sender_machine_id" = ${p} OR EXISTS (SELECT 1 FROM "registry"."deliveries" d WHERE d."message_id" = m."id" AND d."machine_id" = ${p}))`,
      );
    }
    const rows = await this.dataSource.query<MessageRow[]>(
      `SELECT m.* FROM "registry"."messages" m ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY m."id" DESC LIMIT $1`,
      params,
    );
    const page = rows.slice(0, limit);
    const deliveries = page.length
      ? await this.dataSource.query<DeliveryRow[]>(
          `SELECT d."message_id", d."machine_id", mc."name", d."state", d."delivered_at", d."read_at"
           FROM "registry"."deliveries" d JOIN "registry"."machines" mc ON mc."id" = d."machine_id"
           WHERE d."message_id" = ANY($1::bigint[]) ORDER BY mc."name"`,
          [page.map((r) => r.id)],
        )
      : [];
    const byMessage = new Map<string, DeliveryRow[]>();
    for (const d of deliveries) {
      const key = String(d.message_id);
      byMessage.set(key, [...(byMessage.get(key) ?? []), d]);
    }
    const items = page.map((r) => this.toView(r, byMessage.get(String(r.id)) ?? []));
    const last = page.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor({ id: String(last.id) }) : undefined };
  }

  toView(row: MessageRow, deliveries: DeliveryRow[]): MessageView {
    return {
      id: String(row.id),
      from: senderOf(row),
      to: row.to_spec,
      body: row.body,
      createdAt: row.created_at.toISOString(),
      recipients: deliveries.map((d) => ({
        machineId: d.machine_id,
        name: d.name,
        state: d.state,
        deliveredAt: iso(d.delivered_at),
        readAt: iso(d.read_at),
      })),
    };
  }
}
