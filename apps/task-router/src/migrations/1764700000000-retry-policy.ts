import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A task's retry policy, and when its next attempt may start after a failure (the backoff). */
export class RetryPolicy1764700000000 implements MigrationInterface {
  name = 'RetryPolicy1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE "task_router"."tasks" ADD COLUMN "retry_policy" jsonb, ADD COLUMN "not_before" timestamptz`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "task_router"."tasks" DROP COLUMN "retry_policy", DROP COLUMN "not_before"`);
  }
}
