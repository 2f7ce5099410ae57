import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { ProjectPlacement } from '@waggle/contracts';
import type { Queryable } from '@waggle/persistence';
import { updateReturning } from '@waggle/persistence';

import { likePattern } from '../common/paging';

export interface ProjectRow {
  id: string;
  key: string;
  name: string;
  description: string;
  repository: string | null;
  remote_key: string | null;
  default_branch: string;
  source_path: string | null;
  placement: ProjectPlacement;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  /** Open features and bugs (selected with the row). */
  open_items: number;
}

export type ProjectChanges = Partial<
  Pick<
    ProjectRow,
    'name' | 'description' | 'repository' | 'remote_key' | 'default_branch' | 'source_path' | 'placement'
  >
>;

const P = '"tracker"."projects"';
const OPEN_ITEMS = `(SELECT count(*)::int FROM "tracker"."items" i WHERE i."project_id" = p."id"
  AND i."status" NOT IN ('done', 'verified', 'wont_fix')) AS "open_items"`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class ProjectRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts the project; null when its key is taken. */
  async insert(row: Omit<ProjectRow, 'created_at' | 'updated_at' | 'open_items'>): Promise<ProjectRow | null> {
    const [created] = await this.dataSource.query<ProjectRow[]>(
      `INSERT INTO ${P} AS p ("id", "key", "name", "description", "repository", "remote_key", "default_branch",
         "source_path", "placement", "created_by")
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
       ON CONFLICT ("key") DO NOTHING RETURNING *, 0 AS "open_items"`,
      [
        row.id,
        row.key,
        row.name,
        row.description,
        row.repository,
        row.remote_key,
        row.default_branch,
        row.source_path,
        JSON.stringify(row.placement),
        row.created_by,
      ],
    );
    return created ?? null;
  }

  /** By id or by key. */
  async findByRef(ref: string, db: Queryable = this.dataSource): Promise<ProjectRow | null> {
    const column = UUID.test(ref) ? '"id" = $1::uuid' : '"key" = $1';
    const [row] = await db.query<ProjectRow[]>(`SELECT p.*, ${OPEN_ITEMS} FROM ${P} p WHERE p.${column}`, [ref]);
    return row ?? null;
  }

  /** The oldest project whose repository is this remote. */
  async findByRemoteKey(remoteKey: string): Promise<ProjectRow | null> {
    const [row] = await this.dataSource.query<ProjectRow[]>(
      `SELECT p.*, ${OPEN_ITEMS} FROM ${P} p WHERE p."remote_key" = $1 ORDER BY p."created_at" LIMIT 1`,
      [remoteKey],
    );
    return row ?? null;
  }

  keyTaken(key: string): Promise<boolean> {
    return this.dataSource
      .query<{ taken: boolean }[]>(`SELECT EXISTS (SELECT 1 FROM ${P} WHERE "key" = $1) AS "taken"`, [key])
      .then((rows) => !!rows[0]?.taken);
  }

  /** In key order, after the cursor's key; `q` matches key, name, description or repository. */
  list(options: { q?: string; afterKey?: string; limit: number }): Promise<ProjectRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.q) {
      params.push(likePattern(options.q));
      where.push(
        `(p."key" ILIKE $${params.length} OR p."name" ILIKE $${params.length} OR p."description" ILIKE $${params.length} OR p."repository" ILIKE $${params.length})`,
      );
    }
    if (options.afterKey !== undefined) {
      params.push(options.afterKey);
      where.push(`p."key" > $${params.length}`);
    }
    params.push(options.limit + 1);
    return this.dataSource.query<ProjectRow[]>(
      `SELECT p.*, ${OPEN_ITEMS} FROM ${P} p ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY p."key" LIMIT $${params.length}`,
      params,
    );
  }

  async update(db: Queryable, id: string, changes: ProjectChanges): Promise<void> {
    const entries = Object.entries(changes);
    if (!entries.length) {
      return;
    }
    const sets = entries.map(([column], i) => `"${column}" = $${i + 2}${column === 'placement' ? '::jsonb' : ''}`);
    const values = entries.map(([column, value]) => (column === 'placement' ? JSON.stringify(value) : value));
    await updateReturning(db, `UPDATE ${P} SET ${[...sets, '"updated_at" = now()'].join(', ')} WHERE "id" = $1`, [
      id,
      ...values,
    ]);
  }

  async delete(id: string): Promise<boolean> {
    const rows = await updateReturning<{ id: string }>(
      this.dataSource,
      `DELETE FROM ${P} WHERE "id" = $1 RETURNING "id"`,
      [id],
    );
    return rows.length > 0;
  }
}
