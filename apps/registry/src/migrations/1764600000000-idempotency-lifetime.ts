import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys live a day (WAGGLE_IDEMPOTENCY_TTL_SECONDS) and cover every create: a
 * send's key gets the request's fingerprint (the same key with another body is refused),
 * and join tokens and joins keep a key too, with the salt their token is derived from.
 */
export class IdempotencyLifetime1764600000000 implements MigrationInterface {
  name = 'IdempotencyLifetime1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "registry"."messages" ADD COLUMN "idempotency_fingerprint" text`);
    // The prune finds keyed rows past their lifetime without reading the whole history.
    await q.query(
      `CREATE INDEX "messages_idempotency_age" ON "registry"."messages" ("created_at") WHERE "idempotency_key" IS NOT NULL`,
    );
    for (const table of ['join_tokens', 'machines']) {
      await q.query(`ALTER TABLE "registry"."${table}"
        ADD COLUMN "idempotency_key" text,
        ADD COLUMN "idempotency_fingerprint" text,
        ADD COLUMN "token_salt" bytea`);
      await q.query(
        `CREATE UNIQUE INDEX "${table}_idempotency_key" ON "registry"."${table}" ("idempotency_key") WHERE "idempotency_key" IS NOT NULL`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['join_tokens', 'machines']) {
      await q.query(`DROP INDEX "registry"."${table}_idempotency_key"`);
      await q.query(`ALTER TABLE "registry"."${table}"
        DROP COLUMN "idempotency_key", DROP COLUMN "idempotency_fingerprint", DROP COLUMN "token_salt"`);
    }
    await q.query(`DROP INDEX "registry"."messages_idempotency_age"`);
    await q.query(`ALTER TABLE "registry"."messages" DROP COLUMN "idempotency_fingerprint"`);
  }
}
