import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The git repositories each machine reports under its source folders. */
export class Checkouts1764900000001 implements MigrationInterface {
  name = 'Checkouts1764900000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "tracker"."checkouts" (
      "machine_id" uuid NOT NULL,
      "machine_name" text NOT NULL,
      "path" text NOT NULL,
      "remote" text,
      "remote_key" text,
      "branch" text,
      "dirty" boolean NOT NULL,
      "last_commit" jsonb,
      "reported_at" timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY ("machine_id", "path")
    )`);
    await q.query(`CREATE INDEX "checkouts_remote_key" ON "tracker"."checkouts" ("remote_key")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "tracker"."checkouts"`);
  }
}
