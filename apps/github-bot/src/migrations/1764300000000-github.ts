import type { MigrationInterface, QueryRunner } from 'typeorm';

import { outboxTableSql } from '@waggle/outbox';

export class Github1764300000000 implements MigrationInterface {
  name = 'Github1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "github"."repos" (
      "full_name" text PRIMARY KEY,
      "label" text NOT NULL,
      "poll" boolean NOT NULL,
      "defaults" jsonb NOT NULL DEFAULT '{}',
      "webhook_secret" text NOT NULL,
      "etag" text,
      "last_polled_at" timestamptz,
      "last_error" text,
      "created_at" timestamptz NOT NULL DEFAULT now()
    )`);
    // Case-insensitive lookups, as GitHub treats names.
    await q.query(`CREATE UNIQUE INDEX "repos_lower_name" ON "github"."repos" (lower("full_name"))`);
    // One row per issue: exactly one task per issue, whoever saw it first (webhook, poll, replica).
    // No foreign key: unwatching a repository keeps its history, and watching it again makes no second task.
    await q.query(`CREATE TABLE "github"."links" (
      "id" uuid PRIMARY KEY,
      "repo" text NOT NULL,
      "issue_number" integer NOT NULL,
      "issue_title" text NOT NULL,
      "issue_url" text NOT NULL,
      "task_id" uuid,
      "status" text NOT NULL DEFAULT 'queued' CHECK ("status" IN ('queued', 'in_progress', 'done', 'failed')),
      "label_applied" text,
      "outcome" text CHECK ("outcome" IN ('pull_request', 'no_changes', 'follow_up', 'failed')),
      "outcome_for" text,
      "outcome_comment_id" bigint,
      "pull_request" jsonb,
      "follow_ups" jsonb NOT NULL DEFAULT '[]',
      "claimed_by" text,
      "claimed_attempt" integer NOT NULL DEFAULT 0,
      "claimed_comment_id" bigint,
      "error" text,
      "sync_until" timestamptz,
      "resync" boolean NOT NULL DEFAULT false,
      "final" boolean NOT NULL DEFAULT false,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      UNIQUE ("repo", "issue_number")
    )`);
    await q.query(`CREATE UNIQUE INDEX "links_task" ON "github"."links" ("task_id") WHERE "task_id" IS NOT NULL`);
    await q.query(`CREATE INDEX "links_unfinished" ON "github"."links" ("updated_at") WHERE NOT "final"`);
    await q.query(`CREATE INDEX "links_recent" ON "github"."links" ("created_at" DESC, "id" DESC)`);
    await q.query(`CREATE TABLE "github"."deliveries" (
      "id" text PRIMARY KEY,
      "event" text NOT NULL,
      "repo" text,
      "result" text NOT NULL,
      "received_at" timestamptz NOT NULL DEFAULT now()
    )`);
    for (const sql of outboxTableSql('github')) {
      await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "github"."outbox"`);
    await q.query(`DROP TABLE "github"."deliveries"`);
    await q.query(`DROP TABLE "github"."links"`);
    await q.query(`DROP TABLE "github"."repos"`);
  }
}
