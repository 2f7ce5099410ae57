import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A create's Idempotency-Key lives a day (WAGGLE_IDEMPOTENCY_TTL_SECONDS) and carries the
 * request's fingerprint: the same key with another body is refused.
 */
export class IdempotencyLifetime1764600000000 implements MigrationInterface {
  name = 'IdempotencyLifetime1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "task_router"."tasks" ADD COLUMN "idempotency_fingerprint" text`);
    // The prune finds keyed rows past their lifetime without reading every task.
    await q.query(
      `CREATE INDEX "tasks_idempotency_age" ON "task_router"."tasks" ("created_at") WHERE "idempotency_key" IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "task_router"."tasks_idempotency_age"`);
    await q.query(`ALTER TABLE "task_router"."tasks" DROP COLUMN "idempotency_fingerprint"`);
  }
}
