import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Milestone plans the LLM proposed, kept until a person accepts some of their features. */
export class Plans1764900000004 implements MigrationInterface {
  name = 'Plans1764900000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "tracker"."plans" (
      "id" uuid PRIMARY KEY,
      "project_id" uuid NOT NULL REFERENCES "tracker"."projects" ("id") ON DELETE CASCADE,
      "state" text NOT NULL DEFAULT 'proposed' CHECK ("state" IN ('proposed', 'accepted')),
      "proposal" jsonb NOT NULL,
      "sources" jsonb NOT NULL,
      "created_by" text NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "decided_at" timestamptz
    )`);
    await q.query(`CREATE INDEX "plans_project" ON "tracker"."plans" ("project_id", "created_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "tracker"."plans"`);
  }
}
