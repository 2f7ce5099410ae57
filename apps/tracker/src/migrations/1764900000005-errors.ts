import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Errors grouped like Sentry: ingest keys per project, groups with their counts, the
 * fingerprints that lead to each group (a merge moves them, so it holds for future events),
 * and the latest events of each group. Projects get a number: Sentry SDKs want a numeric
 * project id in the DSN.
 */
export class Errors1764900000005 implements MigrationInterface {
  name = 'Errors1764900000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "tracker"."projects" ADD COLUMN "number" bigint GENERATED ALWAYS AS IDENTITY UNIQUE`);
    await q.query(`CREATE TABLE "tracker"."ingest_keys" (
      "id" uuid PRIMARY KEY,
      "project_id" uuid NOT NULL REFERENCES "tracker"."projects" ("id") ON DELETE CASCADE,
      "name" text NOT NULL,
      "key_hash" text NOT NULL UNIQUE,
      "prefix" text NOT NULL,
      "rate_per_minute" integer NOT NULL,
      "created_by" text NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "revoked_at" timestamptz
    )`);
    await q.query(`CREATE INDEX "ingest_keys_project" ON "tracker"."ingest_keys" ("project_id", "created_at")`);
    await q.query(`CREATE TABLE "tracker"."error_groups" (
      "id" uuid PRIMARY KEY,
      "project_id" uuid NOT NULL REFERENCES "tracker"."projects" ("id") ON DELETE CASCADE,
      "fingerprint" text NOT NULL,
      "title" text NOT NULL,
      "culprit" text NOT NULL DEFAULT '',
      "type" text NOT NULL DEFAULT '',
      "level" text NOT NULL DEFAULT 'error',
      "status" text NOT NULL DEFAULT 'unresolved'
        CHECK ("status" IN ('unresolved', 'resolved', 'ignored', 'regressed')),
      "count" bigint NOT NULL DEFAULT 0,
      "first_seen" timestamptz NOT NULL,
      "last_seen" timestamptz NOT NULL,
      "machines" text[] NOT NULL DEFAULT '{}',
      "releases" text[] NOT NULL DEFAULT '{}',
      "ignore_until" timestamptz,
      "ignore_until_count" bigint,
      "resolved_at" timestamptz,
      "bug_id" uuid REFERENCES "tracker"."items" ("id") ON DELETE SET NULL,
      "spike_minute" timestamptz,
      "spike_count" integer NOT NULL DEFAULT 0,
      UNIQUE ("project_id", "fingerprint")
    )`);
    await q.query(`CREATE INDEX "error_groups_last_seen" ON "tracker"."error_groups" ("last_seen" DESC, "id")`);
    await q.query(`CREATE INDEX "error_groups_project" ON "tracker"."error_groups" ("project_id", "last_seen" DESC)`);
    await q.query(`CREATE INDEX "error_groups_machines" ON "tracker"."error_groups" USING gin ("machines")`);
    await q.query(`CREATE INDEX "error_groups_releases" ON "tracker"."error_groups" USING gin ("releases")`);
    await q.query(`CREATE TABLE "tracker"."error_fingerprints" (
      "project_id" uuid NOT NULL REFERENCES "tracker"."projects" ("id") ON DELETE CASCADE,
      "fingerprint" text NOT NULL,
      "group_id" uuid NOT NULL REFERENCES "tracker"."error_groups" ("id") ON DELETE CASCADE,
      PRIMARY KEY ("project_id", "fingerprint")
    )`);
    await q.query(`CREATE INDEX "error_fingerprints_group" ON "tracker"."error_fingerprints" ("group_id")`);
    await q.query(`CREATE TABLE "tracker"."error_events" (
      "seq" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      "id" text NOT NULL,
      "group_id" uuid NOT NULL REFERENCES "tracker"."error_groups" ("id") ON DELETE CASCADE,
      "received_at" timestamptz NOT NULL DEFAULT now(),
      "occurred_at" timestamptz NOT NULL,
      "level" text NOT NULL,
      "machine" text,
      "release" text,
      "environment" text,
      "message" text NOT NULL,
      "exceptions" jsonb NOT NULL,
      "tags" jsonb NOT NULL,
      "context" jsonb NOT NULL
    )`);
    await q.query(`CREATE INDEX "error_events_group" ON "tracker"."error_events" ("group_id", "seq" DESC)`);
    await q.query(`CREATE INDEX "error_events_received" ON "tracker"."error_events" ("received_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "tracker"."error_events"`);
    await q.query(`DROP TABLE "tracker"."error_fingerprints"`);
    await q.query(`DROP TABLE "tracker"."error_groups"`);
    await q.query(`DROP TABLE "tracker"."ingest_keys"`);
    await q.query(`ALTER TABLE "tracker"."projects" DROP COLUMN "number"`);
  }
}
