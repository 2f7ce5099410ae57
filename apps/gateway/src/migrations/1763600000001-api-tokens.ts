import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ApiTokens1763600000001 implements MigrationInterface {
  name = 'ApiTokens1763600000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "gateway"."api_tokens" (
      "id" uuid PRIMARY KEY,
      "name" text NOT NULL,
      "role" text NOT NULL CHECK ("role" IN ('admin')),
      "token_hash" text NOT NULL UNIQUE,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "last_used_at" timestamptz,
      "revoked_at" timestamptz
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "gateway"."api_tokens"`);
  }
}
