import type { MigrationInterface, QueryRunner } from 'typeorm';

import { outboxTableSql } from '@waggle/outbox';

export class Tasks1763700000000 implements MigrationInterface {
  name = 'Tasks1763700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "task_router"."tasks" (
      "id" uuid PRIMARY KEY,
      "title" text NOT NULL,
      "kind" text NOT NULL CHECK ("kind" IN ('agent', 'command', 'shell')),
      "input" jsonb NOT NULL,
      "target_machine_id" uuid,
      "target_name" text,
      "requires" jsonb NOT NULL DEFAULT '{}',
      "priority" integer NOT NULL DEFAULT 50,
      "timeout_seconds" integer NOT NULL,
      "max_attempts" integer NOT NULL,
      "state" text NOT NULL CHECK ("state" IN ('queued', 'assigned', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out')),
      "attempt" integer NOT NULL DEFAULT 0,
      "machine_id" uuid,
      "machine_name" text,
      "lease_expires_at" timestamptz,
      "cancel_requested" boolean NOT NULL DEFAULT false,
      "result" jsonb,
      "waiting" jsonb,
      "parent_task_id" uuid REFERENCES "task_router"."tasks" ("id"),
      "created_by" jsonb NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(
      `CREATE INDEX "tasks_queue" ON "task_router"."tasks" ("priority" DESC, "created_at", "id") WHERE "state" = 'queued'`,
    );
    await q.query(
      `CREATE INDEX "tasks_leases" ON "task_router"."tasks" ("lease_expires_at") WHERE "state" IN ('assigned', 'running')`,
    );
    await q.query(`CREATE INDEX "tasks_machine" ON "task_router"."tasks" ("machine_id", "state")`);
    await q.query(`CREATE INDEX "tasks_listing" ON "task_router"."tasks" ("created_at" DESC, "id" DESC)`);
    await q.query(`CREATE TABLE "task_router"."attempts" (
      "task_id" uuid NOT NULL REFERENCES "task_router"."tasks" ("id") ON DELETE CASCADE,
      "attempt" integer NOT NULL,
      "machine_id" uuid NOT NULL,
      "machine_name" text NOT NULL,
      "state" text NOT NULL,
      "assigned_at" timestamptz NOT NULL DEFAULT now(),
      "started_at" timestamptz,
      "ended_at" timestamptz,
      "result" jsonb,
      PRIMARY KEY ("task_id", "attempt")
    )`);
    await q.query(`CREATE TABLE "task_router"."task_logs" (
      "id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      "task_id" uuid NOT NULL REFERENCES "task_router"."tasks" ("id") ON DELETE CASCADE,
      "attempt" integer NOT NULL,
      "seq" integer NOT NULL,
      "stream" text NOT NULL,
      "data" text NOT NULL,
      "at" timestamptz NOT NULL,
      UNIQUE ("task_id", "attempt", "seq")
    )`);
    await q.query(`CREATE INDEX "task_logs_task" ON "task_router"."task_logs" ("task_id", "id")`);
    for (const sql of outboxTableSql('task_router')) {
      await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "task_router"."outbox"`);
    await q.query(`DROP TABLE "task_router"."task_logs"`);
    await q.query(`DROP TABLE "task_router"."attempts"`);
    await q.query(`DROP TABLE "task_router"."tasks"`);
  }
}
