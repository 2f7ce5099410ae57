import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Unfinished targeted tasks, found by target (the scheduler fails those whose machine was revoked). */
export class TargetedIndex1764000000001 implements MigrationInterface {
  name = 'TargetedIndex1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "tasks_waiting_targets" ON "task_router"."tasks" ("target_machine_id") WHERE "state" IN ('queued', 'assigned') AND "target_machine_id" IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "task_router"."tasks_waiting_targets"`);
  }
}
