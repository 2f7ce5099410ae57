import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed authentications are counted by the rate limiter now (per replica, shared through
 * NATS KV): a flood of bad tokens no longer costs a Postgres write each.
 */
export class DropAuthFailures1764600000000 implements MigrationInterface {
  name = 'DropAuthFailures1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "gateway"."auth_failures"`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "gateway"."auth_failures" (
      "scope" text PRIMARY KEY,
      "window_start" timestamptz NOT NULL,
      "failures" integer NOT NULL
    )`);
  }
}
