import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Assigned, unclaimed tasks by machine: the reconciler compares them with what JetStream holds. */
export class AssignedIndex1764500000000 implements MigrationInterface {
  name = 'AssignedIndex1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "tasks_assigned" ON "task_router"."tasks" ("machine_id", "updated_at") WHERE "state" = 'assigned'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "task_router"."tasks_assigned"`);
  }
}
