import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What keeps the bot from keeping an issue in step (a token that may not label, say), shown with the link. */
export class LinkProblem1764700000000 implements MigrationInterface {
  name = 'LinkProblem1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "github"."links" ADD COLUMN "problem" text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "github"."links" DROP COLUMN "problem"`);
  }
}
