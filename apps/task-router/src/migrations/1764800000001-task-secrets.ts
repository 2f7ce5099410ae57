import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The secrets a task names (environment variable → secret name; never values) and its project. */
export class TaskSecrets1764800000001 implements MigrationInterface {
  name = 'TaskSecrets1764800000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "task_router"."tasks" ADD COLUMN "secrets" jsonb NOT NULL DEFAULT '{}'::jsonb`);
    await q.query(`ALTER TABLE "task_router"."tasks" ADD COLUMN "project" text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "task_router"."tasks" DROP COLUMN "project"`);
    await q.query(`ALTER TABLE "task_router"."tasks" DROP COLUMN "secrets"`);
  }
}
