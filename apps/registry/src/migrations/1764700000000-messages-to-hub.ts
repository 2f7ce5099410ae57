import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Messages machines sent to the hub, newest first: `waggle inbox --hub` reads them. */
export class MessagesToHub1764700000000 implements MigrationInterface {
  name = 'MessagesToHub1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "messages_to_hub" ON "registry"."messages" ("id") WHERE "to_spec" = 'hub'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "registry"."messages_to_hub"`);
  }
}
