import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type { GithubLinkStatus, GithubLinkView, GithubOutcome, ListLinksRequest, Page } from '@waggle/contracts';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, isTimeCursor } from '@waggle/contracts';
import type { Queryable } from '@waggle/persistence';
import { singleRow, updateReturning } from '@waggle/persistence';

export interface LinkRow {
  id: string;
  repo: string;
  issue_number: number;
  issue_title: string;
  issue_url: string;
  task_id: string | null;
  status: GithubLinkStatus;
  /** The status label now on the issue (null: none yet). */
  label_applied: string | null;
  outcome: GithubOutcome | null;
  /** Which final state of the task the posted outcome describes (`state:attempt`). */
  outcome_for: string | null;
  outcome_comment_id: string | null;
  pull_request: { number: number; url: string } | null;
  follow_ups: { number: number; url: string; title: string }[];
  claimed_by: string | null;
  claimed_attempt: number;
  claimed_comment_id: string | null;
  error: string | null;
  final: boolean;
  created_at: Date;
  updated_at: Date;
}

export type LinkChanges = Partial<
  Pick<
    LinkRow,
    | 'task_id'
    | 'status'
    | 'label_applied'
    | 'outcome'
    | 'outcome_for'
    | 'outcome_comment_id'
    | 'pull_request'
    | 'follow_ups'
    | 'claimed_by'
    | 'claimed_attempt'
    | 'claimed_comment_id'
    | 'error'
    | 'final'
  >
>;

const L = '"github"."links"';
const JSON_COLUMNS = new Set(['pull_request', 'follow_ups']);

/** Issue ↔ task ↔ outcome links, and the lease that lets one replica at a time speak for an issue. */
@Injectable()
export class LinkRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The link of an issue: the one inserted now, or the one already there (`created` says which). */
  async insertOrGet(
    link: Pick<LinkRow, 'id' | 'repo' | 'issue_number' | 'issue_title' | 'issue_url'>,
  ): Promise<{ row: LinkRow; created: boolean }> {
    const [row] = await this.dataSource.query<LinkRow[]>(
      `INSERT INTO ${L} ("id", "repo", "issue_number", "issue_title", "issue_url") VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ("repo", "issue_number") DO NOTHING RETURNING *`,
      [link.id, link.repo, link.issue_number, link.issue_title, link.issue_url],
    );
    if (row) {
      return { row, created: true };
    }
    const existing = await this.dataSource.query<LinkRow[]>(
      `SELECT * FROM ${L} WHERE "repo" = $1 AND "issue_number" = $2`,
      [link.repo, link.issue_number],
    );
    return { row: singleRow(existing, 'existing link'), created: false };
  }

  async findById(id: string): Promise<LinkRow | null> {
    const [row] = await this.dataSource.query<LinkRow[]>(`SELECT * FROM ${L} WHERE "id" = $1`, [id]);
    return row ?? null;
  }

  async idsOfTasks(taskIds: string[]): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT "id" FROM ${L} WHERE "task_id" = ANY($1::uuid[])`,
      [taskIds],
    );
    return rows.map((r) => r.id);
  }

  /** Links whose issue still needs the bot: no task yet (and no refusal), or a task not yet reported. */
  findUnfinished(limit = 500): Promise<LinkRow[]> {
    return this.dataSource.query<LinkRow[]>(`SELECT * FROM ${L} WHERE NOT "final" ORDER BY "updated_at" LIMIT $1`, [
      limit,
    ]);
  }

  async update(db: Queryable, id: string, changes: LinkChanges): Promise<LinkRow> {
    const entries = Object.entries(changes);
    const sets = entries.map(([column], i) => `"${column}" = $${i + 2}${JSON_COLUMNS.has(column) ? '::jsonb' : ''}`);
    const values = entries.map(([column, value]) => (JSON_COLUMNS.has(column) ? JSON.stringify(value) : value));
    const rows = await updateReturning<LinkRow>(
      db,
      `UPDATE ${L} SET ${[...sets, '"updated_at" = now()'].join(', ')} WHERE "id" = $1 RETURNING *`,
      [id, ...values],
    );
    return singleRow(rows, `update link ${id}`);
  }

  /**
   * Takes the right to speak for the issue (comments, labels) for a while; one replica at a
   * time. Whoever does not get it leaves a note that the issue needs another look.
   */
  async lease(id: string, seconds: number): Promise<LinkRow | null> {
    const [row] = await updateReturning<LinkRow>(
      this.dataSource,
      `UPDATE ${L} SET "sync_until" = now() + ($2::int * interval '1 second'), "resync" = false
       WHERE "id" = $1 AND ("sync_until" IS NULL OR "sync_until" < now()) RETURNING *`,
      [id, seconds],
    );
    if (!row) {
      await this.dataSource.query(`UPDATE ${L} SET "resync" = true WHERE "id" = $1`, [id]);
    }
    return row ?? null;
  }

  /** Keeps a held lease (a sync waiting out GitHub's rate limit takes long). */
  async extend(id: string, seconds: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${L} SET "sync_until" = now() + ($2::int * interval '1 second') WHERE "id" = $1 AND "sync_until" IS NOT NULL`,
      [id, seconds],
    );
  }

  /** Gives the lease back; true if someone asked for another look meanwhile (the caller keeps it then). */
  async release(id: string, seconds: number): Promise<boolean> {
    const [row] = await updateReturning<{ resync: boolean }>(
      this.dataSource,
      `UPDATE ${L} SET "sync_until" = CASE WHEN "resync" THEN now() + ($2::int * interval '1 second') ELSE NULL END, "resync" = false
       WHERE "id" = $1 RETURNING (SELECT "resync" FROM ${L} WHERE "id" = $1) AS "resync"`,
      [id, seconds],
    );
    return !!row?.resync;
  }

  /** Links whose task has not reached its final outcome (index `links_unfinished`). */
  async countUnfinished(): Promise<number> {
    const [row] = await this.dataSource.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${L} WHERE NOT "final"`);
    return row?.n ?? 0;
  }

  async list(query: ListLinksRequest, manager: EntityManager = this.dataSource.manager): Promise<Page<LinkRow>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(query.cursor, isTimeCursor);
    const rows = await manager.query<LinkRow[]>(
      `SELECT * FROM ${L}
       WHERE ($1::text IS NULL OR lower("repo") = lower($1)) AND ($2::text IS NULL OR "status" = $2)
         AND ($3::timestamptz IS NULL OR ("created_at", "id") < ($3, $4::uuid))
       ORDER BY "created_at" DESC, "id" DESC LIMIT $5`,
      [query.repo ?? null, query.status ?? null, after?.at ?? null, after?.id ?? null, limit + 1],
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > limit && last ? encodeCursor({ at: last.created_at.toISOString(), id: last.id }) : undefined,
    };
  }

  toView(row: LinkRow): GithubLinkView {
    return {
      id: row.id,
      repo: row.repo,
      issueNumber: row.issue_number,
      issueTitle: row.issue_title,
      issueUrl: row.issue_url,
      taskId: row.task_id,
      status: row.status,
      outcome: row.outcome,
      pullRequest: row.pull_request,
      followUps: row.follow_ups,
      claimedBy: row.claimed_by,
      error: row.error,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    };
  }
}
