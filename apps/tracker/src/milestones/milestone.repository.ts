import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type { MilestoneState } from '@waggle/contracts';
import type { Queryable } from '@waggle/persistence';
import { singleRow, updateReturning } from '@waggle/persistence';

export interface MilestoneRow {
  id: string;
  project_id: string;
  title: string;
  description: string;
  target_date: string | null;
  state: MilestoneState;
  position: number;
  created_at: Date;
  updated_at: Date;
  /** Items in the milestone, and those closed (selected with the row). */
  total: number;
  closed: number;
}

export type MilestoneChanges = Partial<Pick<MilestoneRow, 'title' | 'description' | 'target_date' | 'state'>>;

const M = '"tracker"."milestones"';
const SELECT = `SELECT m."id", m."project_id", m."title", m."description", to_char(m."target_date", 'YYYY-MM-DD') AS "target_date",
  m."state", m."position", m."created_at", m."updated_at",
  (SELECT count(*)::int FROM "tracker"."items" i WHERE i."milestone_id" = m."id") AS "total",
  (SELECT count(*)::int FROM "tracker"."items" i WHERE i."milestone_id" = m."id"
     AND i."status" IN ('done', 'verified', 'wont_fix')) AS "closed"
  FROM ${M} m`;

/** A project's milestones, kept in one order (positions 0..n-1). */
@Injectable()
export class MilestoneRepository {
  constructor(private readonly dataSource: DataSource) {}

  async findById(id: string, db: Queryable = this.dataSource): Promise<MilestoneRow | null> {
    const [row] = await db.query<MilestoneRow[]>(`${SELECT} WHERE m."id" = $1`, [id]);
    return row ?? null;
  }

  /** Inserts at `position` (default: last), shifting the ones at and after it; under a lock on the project's order. */
  async insert(
    manager: EntityManager,
    row: Pick<MilestoneRow, 'id' | 'project_id' | 'title' | 'description' | 'target_date'>,
    position: number | undefined,
  ): Promise<void> {
    await this.lockOrder(manager, row.project_id);
    const count = await this.count(manager, row.project_id);
    const at = Math.min(position ?? count, count);
    await manager.query(`UPDATE ${M} SET "position" = "position" + 1 WHERE "project_id" = $1 AND "position" >= $2`, [
      row.project_id,
      at,
    ]);
    await manager.query(
      `INSERT INTO ${M} ("id", "project_id", "title", "description", "target_date", "position") VALUES ($1, $2, $3, $4, $5, $6)`,
      [row.id, row.project_id, row.title, row.description, row.target_date, at],
    );
  }

  /** Moves the milestone to `position`, shifting the ones between. */
  async move(manager: EntityManager, row: Pick<MilestoneRow, 'id' | 'project_id' | 'position'>, position: number) {
    await this.lockOrder(manager, row.project_id);
    const to = Math.min(position, (await this.count(manager, row.project_id)) - 1);
    if (to === row.position) {
      return;
    }
    if (to < row.position) {
      await manager.query(
        `UPDATE ${M} SET "position" = "position" + 1 WHERE "project_id" = $1 AND "position" >= $2 AND "position" < $3`,
        [row.project_id, to, row.position],
      );
    } else {
      await manager.query(
        `UPDATE ${M} SET "position" = "position" - 1 WHERE "project_id" = $1 AND "position" > $2 AND "position" <= $3`,
        [row.project_id, row.position, to],
      );
    }
    await manager.query(`UPDATE ${M} SET "position" = $2, "updated_at" = now() WHERE "id" = $1`, [row.id, to]);
  }

  async update(db: Queryable, id: string, changes: MilestoneChanges): Promise<void> {
    const entries = Object.entries(changes);
    if (!entries.length) {
      return;
    }
    const sets = entries.map(([column], i) => `"${column}" = $${i + 2}`);
    await updateReturning(db, `UPDATE ${M} SET ${[...sets, '"updated_at" = now()'].join(', ')} WHERE "id" = $1`, [
      id,
      ...entries.map(([, v]) => v),
    ]);
  }

  /** Deletes it and closes the gap in the order. */
  async delete(manager: EntityManager, row: Pick<MilestoneRow, 'id' | 'project_id' | 'position'>): Promise<void> {
    await this.lockOrder(manager, row.project_id);
    await manager.query(`DELETE FROM ${M} WHERE "id" = $1`, [row.id]);
    await manager.query(`UPDATE ${M} SET "position" = "position" - 1 WHERE "project_id" = $1 AND "position" > $2`, [
      row.project_id,
      row.position,
    ]);
  }

  /** In order, after the cursor's position. */
  list(projectId: string, afterPosition: number | undefined, limit: number): Promise<MilestoneRow[]> {
    return this.dataSource.query<MilestoneRow[]>(
      `${SELECT} WHERE m."project_id" = $1 AND m."position" > $2 ORDER BY m."position" LIMIT $3`,
      [projectId, afterPosition ?? -1, limit + 1],
    );
  }

  private async count(db: Queryable, projectId: string): Promise<number> {
    const rows = await db.query<{ n: number }[]>(`SELECT count(*)::int AS "n" FROM ${M} WHERE "project_id" = $1`, [
      projectId,
    ]);
    return singleRow(rows, 'milestone count').n;
  }

  /** One writer of a project's milestone order at a time (the project's row lock). */
  private async lockOrder(db: Queryable, projectId: string) {
    await db.query(`SELECT 1 FROM "tracker"."projects" WHERE "id" = $1 FOR UPDATE`, [projectId]);
  }
}
