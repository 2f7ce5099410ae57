import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The hub's activity log: every change made through the API, kept for a while (90 days by default). */
export class Activity1764900000002 implements MigrationInterface {
  name = 'Activity1764900000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "tracker"."activity" (
      "seq" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      "id" uuid NOT NULL UNIQUE,
      "at" timestamptz NOT NULL,
      "actor_kind" text NOT NULL,
      "actor_name" text NOT NULL,
      "actor_id" text,
      "address" text NOT NULL,
      "method" text NOT NULL,
      "route" text NOT NULL,
      "path" text NOT NULL,
      "status" integer NOT NULL,
      "request_id" text NOT NULL
    )`);
    await q.query(`CREATE INDEX "activity_at" ON "tracker"."activity" ("at")`);
    await q.query(`CREATE INDEX "activity_actor" ON "tracker"."activity" ("actor_name", "seq")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "tracker"."activity"`);
  }
}
