import type { MigrationInterface, QueryRunner } from 'typeorm';

import { outboxTableSql } from '@waggle/outbox';

export class Llm1764100000000 implements MigrationInterface {
  name = 'Llm1764100000000';

  async up(q: QueryRunner): Promise<void> {
    // One row per provider, shared by every replica: the circuit breaker's state.
    await q.query(`CREATE TABLE "llm"."breakers" (
      "provider" text PRIMARY KEY,
      "state" text NOT NULL DEFAULT 'closed' CHECK ("state" IN ('closed', 'open', 'half_open')),
      "failures" integer NOT NULL DEFAULT 0,
      "opened_at" timestamptz,
      "probe_until" timestamptz,
      "last_error" text,
      "updated_at" timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE "llm"."requests" (
      "id" uuid PRIMARY KEY,
      "at" timestamptz NOT NULL DEFAULT now(),
      "day" date NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')::date,
      "api" text NOT NULL,
      "requested_model" text NOT NULL,
      "provider" text,
      "provider_model" text,
      "machine_id" uuid,
      "caller" text NOT NULL,
      "task_id" uuid,
      "stream" boolean NOT NULL,
      "status" text NOT NULL CHECK ("status" IN ('reserved', 'ok', 'error', 'refused')),
      "http_status" integer,
      "input_tokens" integer NOT NULL DEFAULT 0,
      "output_tokens" integer NOT NULL DEFAULT 0,
      "cost_usd" numeric(16, 8) NOT NULL DEFAULT 0,
      "latency_ms" integer,
      "first_token_ms" integer,
      "failovers" integer NOT NULL DEFAULT 0,
      "error" text
    )`);
    await q.query(`CREATE INDEX "requests_day_provider" ON "llm"."requests" ("day", "provider")`);
    await q.query(`CREATE INDEX "requests_day_machine" ON "llm"."requests" ("day", "machine_id")`);
    await q.query(`CREATE INDEX "requests_task" ON "llm"."requests" ("task_id") WHERE "task_id" IS NOT NULL`);
    await q.query(`CREATE INDEX "requests_at" ON "llm"."requests" ("at")`);
    await q.query(`CREATE TABLE "llm"."failovers" (
      "id" uuid PRIMARY KEY,
      "at" timestamptz NOT NULL DEFAULT now(),
      "request_id" uuid NOT NULL,
      "from_provider" text NOT NULL,
      "to_provider" text,
      "reason" text NOT NULL,
      "machine_id" uuid,
      "task_id" uuid
    )`);
    await q.query(`CREATE INDEX "failovers_recent" ON "llm"."failovers" ("at" DESC, "id" DESC)`);
    for (const sql of outboxTableSql('llm')) {
      await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "llm"."outbox"`);
    await q.query(`DROP TABLE "llm"."failovers"`);
    await q.query(`DROP TABLE "llm"."requests"`);
    await q.query(`DROP TABLE "llm"."breakers"`);
  }
}
