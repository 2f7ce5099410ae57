import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What an admin granted a machine (`dispatch`: create tasks through the API). */
export class MachinePermissions1764600000001 implements MigrationInterface {
  name = 'MachinePermissions1764600000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "registry"."machines"
      ADD COLUMN "permissions" text[] NOT NULL DEFAULT '{}',
      ADD CONSTRAINT "machines_permissions_known" CHECK ("permissions" <@ ARRAY['dispatch']::text[])`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "registry"."machines" DROP CONSTRAINT "machines_permissions_known"`);
    await q.query(`ALTER TABLE "registry"."machines" DROP COLUMN "permissions"`);
  }
}
