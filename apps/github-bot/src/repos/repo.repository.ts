import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { GithubTaskDefaults, Page } from '@waggle/contracts';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor } from '@waggle/contracts';
import { singleRow, updateReturning } from '@waggle/persistence';

export interface RepoRow {
  full_name: string;
  label: string;
  poll: boolean;
  defaults: GithubTaskDefaults;
  /** Sealed (AES-256-GCM); never leaves this service. */
  webhook_secret: string;
  etag: string | null;
  last_polled_at: Date | null;
  last_error: string | null;
  created_at: Date;
}

const R = '"github"."repos"';
const isCursor = (v: unknown): v is { name: string } =>
  typeof v === 'object' && v !== null && typeof (v as { name: unknown }).name === 'string';

/** Watched repositories. */
@Injectable()
export class RepoRepository {
  /** Whether any repository is watched, as last looked up (the sweep refreshes it; a local add sets it). */
  private watched?: boolean;

  constructor(private readonly dataSource: DataSource) {}

  /** Whether any repository is watched: without one, task events concern no issue and cost no query. */
  async anyWatched(): Promise<boolean> {
    return this.watched ?? (await this.refreshWatched());
  }

  async refreshWatched(): Promise<boolean> {
    const [row] = await this.dataSource.query<{ any: boolean }[]>(`SELECT EXISTS (SELECT 1 FROM ${R}) AS "any"`);
    this.watched = !!row?.any;
    return this.watched;
  }

  /** Inserts or updates; a changed label forgets the poll's ETag (the query changed). The secret changes only when given. */
  async upsert(
    row: Pick<RepoRow, 'full_name' | 'label' | 'poll' | 'defaults'> & { webhook_secret: string | null },
  ): Promise<RepoRow> {
    const saved = await this.dataSource.query<RepoRow[]>(
      `INSERT INTO ${R} ("full_name", "label", "poll", "defaults", "webhook_secret") VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ("full_name") DO UPDATE SET "label" = EXCLUDED."label", "poll" = EXCLUDED."poll", "defaults" = EXCLUDED."defaults",
         "webhook_secret" = CASE WHEN $6 THEN EXCLUDED."webhook_secret" ELSE ${R}."webhook_secret" END,
         "etag" = CASE WHEN ${R}."label" = EXCLUDED."label" THEN ${R}."etag" ELSE NULL END
       RETURNING *`,
      [
        row.full_name,
        row.label,
        row.poll,
        JSON.stringify(row.defaults),
        row.webhook_secret ?? '',
        row.webhook_secret !== null,
      ],
    );
    this.watched = true;
    return singleRow(saved, 'upsert repo');
  }

  async findByName(fullName: string): Promise<RepoRow | null> {
    const [row] = await this.dataSource.query<RepoRow[]>(`SELECT * FROM ${R} WHERE lower("full_name") = lower($1)`, [
      fullName,
    ]);
    return row ?? null;
  }

  async findPolled(): Promise<RepoRow[]> {
    return this.dataSource.query<RepoRow[]>(`SELECT * FROM ${R} WHERE "poll" ORDER BY "last_polled_at" NULLS FIRST`);
  }

  async remove(fullName: string): Promise<RepoRow | null> {
    const [row] = await updateReturning<RepoRow>(
      this.dataSource,
      `DELETE FROM ${R} WHERE lower("full_name") = lower($1) RETURNING *`,
      [fullName],
    );
    return row ?? null;
  }

  async polled(fullName: string, result: { etag?: string | null; error: string | null }): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${R} SET "last_polled_at" = now(), "last_error" = $2, "etag" = CASE WHEN $3 THEN $4 ELSE "etag" END WHERE "full_name" = $1`,
      [fullName, result.error, result.etag !== undefined, result.etag ?? null],
    );
  }

  async list(limit = DEFAULT_PAGE_SIZE, cursor?: string): Promise<Page<RepoRow>> {
    const after = decodeCursor(cursor, isCursor);
    const rows = await this.dataSource.query<RepoRow[]>(
      `SELECT * FROM ${R} WHERE $1::text IS NULL OR "full_name" > $1 ORDER BY "full_name" LIMIT $2`,
      [after?.name ?? null, limit + 1],
    );
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? encodeCursor({ name: items.at(-1)!.full_name }) : undefined };
  }
}
