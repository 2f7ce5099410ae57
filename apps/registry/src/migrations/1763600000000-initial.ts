import type { MigrationInterface, QueryRunner } from 'typeorm';

import { outboxTableSql } from '@waggle/outbox';

export class Initial1763600000000 implements MigrationInterface {
  name = 'Initial1763600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "registry"."machines" (
      "id" uuid PRIMARY KEY,
      "name" text NOT NULL,
      "status" text NOT NULL DEFAULT 'offline' CHECK ("status" IN ('online', 'offline', 'revoked')),
      "labels" text[] NOT NULL DEFAULT '{}',
      "capability_tags" text[] NOT NULL DEFAULT '{}',
      "capabilities" jsonb,
      "metrics" jsonb,
      "agent_version" text,
      "heartbeat_interval_ms" integer NOT NULL DEFAULT 5000,
      "nats_public_key" text NOT NULL,
      "token_hash" text NOT NULL UNIQUE,
      "last_seen_at" timestamptz,
      "joined_at" timestamptz NOT NULL DEFAULT now(),
      "revoked_at" timestamptz
    )`);
    await q.query(
      `CREATE UNIQUE INDEX "machines_active_name" ON "registry"."machines" ("name") WHERE "revoked_at" IS NULL`,
    );
    await q.query(`CREATE INDEX "machines_capability_tags" ON "registry"."machines" USING gin ("capability_tags")`);
    await q.query(`CREATE INDEX "machines_labels" ON "registry"."machines" USING gin ("labels")`);
    await q.query(`CREATE TABLE "registry"."join_tokens" (
      "id" uuid PRIMARY KEY,
      "token_hash" text NOT NULL UNIQUE,
      "description" text,
      "expires_at" timestamptz NOT NULL,
      "max_uses" integer,
      "uses" integer NOT NULL DEFAULT 0,
      "created_at" timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE "registry"."messages" (
      "id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      "sender_kind" text NOT NULL,
      "sender_machine_id" uuid,
      "sender_name" text NOT NULL,
      "to_spec" text NOT NULL,
      "body" text NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX "messages_sender" ON "registry"."messages" ("sender_machine_id", "id")`);
    await q.query(`CREATE TABLE "registry"."deliveries" (
      "message_id" bigint NOT NULL REFERENCES "registry"."messages" ("id") ON DELETE CASCADE,
      "machine_id" uuid NOT NULL REFERENCES "registry"."machines" ("id"),
      "state" text NOT NULL DEFAULT 'queued' CHECK ("state" IN ('queued', 'delivered', 'read')),
      "delivered_at" timestamptz,
      "read_at" timestamptz,
      PRIMARY KEY ("message_id", "machine_id")
    )`);
    await q.query(`CREATE INDEX "deliveries_machine" ON "registry"."deliveries" ("machine_id", "message_id")`);
    for (const sql of outboxTableSql('registry')) {
      await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "registry"."outbox"`);
    await q.query(`DROP TABLE "registry"."deliveries"`);
    await q.query(`DROP TABLE "registry"."messages"`);
    await q.query(`DROP TABLE "registry"."join_tokens"`);
    await q.query(`DROP TABLE "registry"."machines"`);
  }
}
