import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A send may carry an idempotency key: the same key returns the message the first send stored. */
export class MessageIdempotency1764400000000 implements MigrationInterface {
  name = 'MessageIdempotency1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "registry"."messages" ADD COLUMN "idempotency_key" text`);
    await q.query(
      `CREATE UNIQUE INDEX "messages_idempotency_key" ON "registry"."messages" ("idempotency_key") WHERE "idempotency_key" IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "registry"."messages_idempotency_key"`);
    await q.query(`ALTER TABLE "registry"."messages" DROP COLUMN "idempotency_key"`);
  }
}
