import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Help1764000000000 implements MigrationInterface {
  name = 'Help1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "task_router"."help_requests" (
      "id" uuid PRIMARY KEY,
      "parent_task_id" uuid NOT NULL REFERENCES "task_router"."tasks" ("id") ON DELETE CASCADE,
      "parent_attempt" integer NOT NULL,
      "from_machine_id" uuid NOT NULL,
      "from_name" text NOT NULL,
      "reason" text NOT NULL,
      "requires" jsonb NOT NULL,
      "state" text NOT NULL CHECK ("state" IN ('accepted', 'unanswered')),
      "helper_machine_id" uuid,
      "helper_name" text,
      "eta_seconds" integer,
      "child_task_id" uuid REFERENCES "task_router"."tasks" ("id"),
      "answers" jsonb NOT NULL DEFAULT '[]',
      "created_at" timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(
      `CREATE INDEX "help_requests_parent" ON "task_router"."help_requests" ("parent_task_id", "created_at")`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "task_router"."help_requests"`);
  }
}
