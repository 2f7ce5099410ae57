import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tasks that ended well or badly since a time (the overview's "done today", "failed today") without reading every task. */
export class FinishedIndex1764900000000 implements MigrationInterface {
  name = 'FinishedIndex1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "tasks_finished" ON "task_router"."tasks" ("state", "updated_at") WHERE "state" IN ('succeeded', 'failed', 'timed_out')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "task_router"."tasks_finished"`);
  }
}
