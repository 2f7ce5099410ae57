import type { MigrationInterface, QueryRunner } from 'typeorm';

import { outboxTableSql } from '@waggle/outbox';

/** Sessions as machines report them, and the assigner's queue of prompts. */
export class Initial1764900000000 implements MigrationInterface {
  name = 'Initial1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "sessions"."sessions" (
      "machine_id" uuid NOT NULL,
      "name" text NOT NULL,
      "machine_name" text NOT NULL,
      "cli" text NOT NULL,
      "state" text NOT NULL CHECK ("state" IN ('idle', 'busy', 'needs_input', 'finished', 'exited')),
      "state_since" timestamptz NOT NULL,
      "state_source" text NOT NULL,
      "turn" integer NOT NULL DEFAULT 0,
      "activity_at" timestamptz NOT NULL,
      "command" jsonb NOT NULL,
      "cwd" text NOT NULL,
      "labels" text[] NOT NULL DEFAULT '{}',
      "windows" jsonb NOT NULL,
      "excerpt" text,
      "exit_status" integer,
      "attention_dismissed_at" timestamptz,
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY ("machine_id", "name")
    )`);
    await q.query(`CREATE INDEX "sessions_state" ON "sessions"."sessions" ("state")`);
    await q.query(`CREATE TABLE "sessions"."assignments" (
      "id" uuid PRIMARY KEY,
      "prompt" text NOT NULL,
      "priority" integer NOT NULL,
      "state" text NOT NULL CHECK ("state" IN ('queued', 'assigned', 'in_progress', 'completed', 'failed', 'cancelled')),
      "target_machine" text,
      "target_session" text,
      "capability" text,
      "labels" text[] NOT NULL DEFAULT '{}',
      "timeout_seconds" integer NOT NULL,
      "retries" integer NOT NULL,
      "attempts" integer NOT NULL DEFAULT 0,
      "machine_id" uuid,
      "machine_name" text,
      "session" text,
      "turn" integer,
      "reason" text,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "assigned_at" timestamptz,
      "finished_at" timestamptz
    )`);
    await q.query(
      `CREATE INDEX "assignments_queued" ON "sessions"."assignments" ("priority" DESC, "created_at") WHERE "state" = 'queued'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "assignments_one_per_session" ON "sessions"."assignments" ("machine_id", "session") WHERE "state" IN ('assigned', 'in_progress')`,
    );
    await q.query(`CREATE INDEX "assignments_created" ON "sessions"."assignments" ("created_at" DESC, "id" DESC)`);
    for (const sql of outboxTableSql('sessions')) {
      await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "sessions"."outbox"`);
    await q.query(`DROP TABLE "sessions"."assignments"`);
    await q.query(`DROP TABLE "sessions"."sessions"`);
  }
}
