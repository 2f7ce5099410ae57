import type { MigrationInterface, QueryRunner } from 'typeorm';

/** An item made from a GitHub issue the bot took: one item per issue. */
export class GithubIssues1764900000003 implements MigrationInterface {
  name = 'GithubIssues1764900000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "tracker"."items" ADD COLUMN "github_repo" text, ADD COLUMN "github_issue_number" integer,
      ADD COLUMN "github_issue_url" text`);
    await q.query(
      `CREATE UNIQUE INDEX "items_github_issue" ON "tracker"."items" (lower("github_repo"), "github_issue_number")
       WHERE "github_repo" IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "tracker"."items_github_issue"`);
    await q.query(
      `ALTER TABLE "tracker"."items" DROP COLUMN "github_repo", DROP COLUMN "github_issue_number", DROP COLUMN "github_issue_url"`,
    );
  }
}
