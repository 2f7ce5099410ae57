import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `github-issue` kind, and a caller's key for a create: the same key twice gives the one
 * task the first create made (the GitHub bot's retries make no second task for an issue).
 */
export class GithubTasks1764200000000 implements MigrationInterface {
  name = 'GithubTasks1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "task_router"."tasks" DROP CONSTRAINT "tasks_kind_check"`);
    await q.query(
      `ALTER TABLE "task_router"."tasks" ADD CONSTRAINT "tasks_kind_check" CHECK ("kind" IN ('agent', 'command', 'shell', 'github-issue'))`,
    );
    await q.query(`ALTER TABLE "task_router"."tasks" ADD COLUMN "idempotency_key" text`);
    await q.query(
      `CREATE UNIQUE INDEX "tasks_idempotency_key" ON "task_router"."tasks" ("idempotency_key") WHERE "idempotency_key" IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "task_router"."tasks_idempotency_key"`);
    await q.query(`ALTER TABLE "task_router"."tasks" DROP COLUMN "idempotency_key"`);
    await q.query(`ALTER TABLE "task_router"."tasks" DROP CONSTRAINT "tasks_kind_check"`);
    await q.query(
      `ALTER TABLE "task_router"."tasks" ADD CONSTRAINT "tasks_kind_check" CHECK ("kind" IN ('agent', 'command', 'shell'))`,
    );
  }
}
