import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Failed authentications and joins per address, per one-minute window: shared by every gateway replica. */
export class AuthFailures1764400000001 implements MigrationInterface {
  name = 'AuthFailures1764400000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "gateway"."auth_failures" (
      "scope" text PRIMARY KEY,
      "window_start" timestamptz NOT NULL,
      "failures" integer NOT NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "gateway"."auth_failures"`);
  }
}
