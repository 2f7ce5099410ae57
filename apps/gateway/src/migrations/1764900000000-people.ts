import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * People's accounts and their sign-in sessions, and roles on API tokens (viewer, operator,
 * admin; the tokens that exist were all admin tokens and stay so).
 */
export class People1764900000000 implements MigrationInterface {
  name = 'People1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "gateway"."api_tokens" DROP CONSTRAINT "api_tokens_role_check"`);
    await q.query(`ALTER TABLE "gateway"."api_tokens"
      ADD CONSTRAINT "api_tokens_role_check" CHECK ("role" IN ('viewer', 'operator', 'admin'))`);
    await q.query(`CREATE TABLE "gateway"."users" (
      "id" uuid PRIMARY KEY,
      "name" text NOT NULL,
      "role" text NOT NULL CHECK ("role" IN ('viewer', 'operator', 'admin')),
      "password_hash" text NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      "disabled_at" timestamptz,
      "last_login_at" timestamptz
    )`);
    // Names are unique whatever their case: "Ana" and "ana" are one person signing in.
    await q.query(`CREATE UNIQUE INDEX "users_name_key" ON "gateway"."users" (lower("name"))`);
    await q.query(`CREATE TABLE "gateway"."sessions" (
      "id" uuid PRIMARY KEY,
      "token_hash" text NOT NULL UNIQUE,
      "user_id" uuid NOT NULL REFERENCES "gateway"."users" ("id") ON DELETE CASCADE,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "expires_at" timestamptz NOT NULL
    )`);
    await q.query(`CREATE INDEX "sessions_user_id" ON "gateway"."sessions" ("user_id")`);
    await q.query(`CREATE INDEX "sessions_expires_at" ON "gateway"."sessions" ("expires_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "gateway"."sessions"`);
    await q.query(`DROP TABLE "gateway"."users"`);
    await q.query(`DELETE FROM "gateway"."api_tokens" WHERE "role" <> 'admin'`);
    await q.query(`ALTER TABLE "gateway"."api_tokens" DROP CONSTRAINT "api_tokens_role_check"`);
    await q.query(
      `ALTER TABLE "gateway"."api_tokens" ADD CONSTRAINT "api_tokens_role_check" CHECK ("role" IN ('admin'))`,
    );
  }
}
