import type { MigrationInterface, QueryRunner } from 'typeorm';

import { outboxTableSql } from '@waggle/outbox';

/** Projects, their milestones and work items (features and bugs), comments and each item's history. */
export class Initial1764900000000 implements MigrationInterface {
  name = 'Initial1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "tracker"."projects" (
      "id" uuid PRIMARY KEY,
      "key" text NOT NULL UNIQUE,
      "name" text NOT NULL,
      "description" text NOT NULL DEFAULT '',
      "repository" text,
      "remote_key" text,
      "default_branch" text NOT NULL DEFAULT 'main',
      "source_path" text,
      "placement" jsonb NOT NULL DEFAULT '{}',
      "created_by" text NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX "projects_remote_key" ON "tracker"."projects" ("remote_key")`);
    await q.query(`CREATE TABLE "tracker"."milestones" (
      "id" uuid PRIMARY KEY,
      "project_id" uuid NOT NULL REFERENCES "tracker"."projects" ("id") ON DELETE CASCADE,
      "title" text NOT NULL,
      "description" text NOT NULL DEFAULT '',
      "target_date" date,
      "state" text NOT NULL DEFAULT 'open' CHECK ("state" IN ('open', 'closed')),
      "position" integer NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX "milestones_project" ON "tracker"."milestones" ("project_id", "position", "id")`);
    await q.query(`CREATE TABLE "tracker"."items" (
      "id" uuid PRIMARY KEY,
      "number" bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
      "project_id" uuid NOT NULL REFERENCES "tracker"."projects" ("id") ON DELETE CASCADE,
      "kind" text NOT NULL CHECK ("kind" IN ('feature', 'bug')),
      "title" text NOT NULL,
      "body" text NOT NULL DEFAULT '',
      "status" text NOT NULL,
      "priority" text NOT NULL DEFAULT 'medium',
      "severity" text,
      "steps" text,
      "environment" text,
      "milestone_id" uuid REFERENCES "tracker"."milestones" ("id") ON DELETE SET NULL,
      "task_id" uuid,
      "task_state" text,
      "status_before_task" text,
      "assignments" integer NOT NULL DEFAULT 0,
      "assignment" jsonb,
      "pull_request" jsonb,
      "last_failure" text,
      "created_by" text NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      CHECK (("kind" = 'feature' AND "status" IN ('proposed', 'planned', 'in_progress', 'review', 'done'))
          OR ("kind" = 'bug' AND "status" IN ('open', 'triaged', 'in_progress', 'fixed', 'verified', 'wont_fix')))
    )`);
    await q.query(`CREATE INDEX "items_project" ON "tracker"."items" ("project_id", "kind", "number")`);
    await q.query(
      `CREATE INDEX "items_milestone" ON "tracker"."items" ("milestone_id") WHERE "milestone_id" IS NOT NULL`,
    );
    await q.query(`CREATE INDEX "items_task" ON "tracker"."items" ("task_id") WHERE "task_id" IS NOT NULL`);
    await q.query(`CREATE TABLE "tracker"."comments" (
      "id" uuid PRIMARY KEY,
      "seq" bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
      "item_id" uuid NOT NULL REFERENCES "tracker"."items" ("id") ON DELETE CASCADE,
      "author" text NOT NULL,
      "body" text NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX "comments_item" ON "tracker"."comments" ("item_id", "seq")`);
    await q.query(`CREATE TABLE "tracker"."history" (
      "id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      "item_id" uuid NOT NULL REFERENCES "tracker"."items" ("id") ON DELETE CASCADE,
      "actor" text NOT NULL,
      "field" text NOT NULL,
      "from_value" text,
      "to_value" text,
      "at" timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX "history_item" ON "tracker"."history" ("item_id", "id")`);
    for (const sql of outboxTableSql('tracker')) {
      await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "tracker"."outbox"`);
    await q.query(`DROP TABLE "tracker"."history"`);
    await q.query(`DROP TABLE "tracker"."comments"`);
    await q.query(`DROP TABLE "tracker"."items"`);
    await q.query(`DROP TABLE "tracker"."milestones"`);
    await q.query(`DROP TABLE "tracker"."projects"`);
  }
}
