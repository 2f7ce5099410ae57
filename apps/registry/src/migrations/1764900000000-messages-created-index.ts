import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Messages sent since a time (the overview's "messages today") without reading every message. */
export class MessagesCreatedIndex1764900000000 implements MigrationInterface {
  name = 'MessagesCreatedIndex1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "messages_created" ON "registry"."messages" ("created_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "registry"."messages_created"`);
  }
}
