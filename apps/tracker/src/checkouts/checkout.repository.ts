import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { LastCommit } from '@waggle/contracts';

export interface CheckoutRow {
  machine_id: string;
  machine_name: string;
  path: string;
  remote: string | null;
  remote_key: string | null;
  branch: string | null;
  dirty: boolean;
  last_commit: LastCommit | null;
  reported_at: Date;
  /** The project with the same remote (selected with the row). */
  project_key: string | null;
}

const K = '"tracker"."checkouts"';
const SELECT = `SELECT c.*, (SELECT p."key" FROM "tracker"."projects" p WHERE p."remote_key" = c."remote_key"
  ORDER BY p."created_at" LIMIT 1) AS "project_key" FROM ${K} c`;

@Injectable()
export class CheckoutRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** A machine's report replaces what it said before, in one transaction. */
  async replace(
    machineId: string,
    machineName: string,
    rows: Omit<CheckoutRow, 'machine_id' | 'machine_name' | 'reported_at' | 'project_key'>[],
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`DELETE FROM ${K} WHERE "machine_id" = $1`, [machineId]);
      if (!rows.length) {
        return;
      }
      // One statement for the whole report (unnest of arrays, one per column).
      await manager.query(
        `INSERT INTO ${K} ("machine_id", "machine_name", "path", "remote", "remote_key", "branch", "dirty", "last_commit")
         SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::jsonb[])
         ON CONFLICT ("machine_id", "path") DO NOTHING`,
        [
          machineId,
          machineName,
          rows.map((r) => r.path),
          rows.map((r) => r.remote),
          rows.map((r) => r.remote_key),
          rows.map((r) => r.branch),
          rows.map((r) => r.dirty),
          rows.map((r) => (r.last_commit ? JSON.stringify(r.last_commit) : null)),
        ],
      );
    });
  }

  /** Ordered by machine name, then path; after the cursor's pair. */
  list(filter: {
    machine?: string;
    remoteKey?: string;
    after?: [string, string];
    limit: number;
  }): Promise<CheckoutRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.machine) {
      params.push(filter.machine);
      where.push(`(c."machine_name" = $${params.length} OR c."machine_id"::text = $${params.length})`);
    }
    if (filter.remoteKey) {
      params.push(filter.remoteKey);
      where.push(`c."remote_key" = $${params.length}`);
    }
    if (filter.after) {
      params.push(filter.after[0], filter.after[1]);
      where.push(`(c."machine_name", c."path") > ($${params.length - 1}, $${params.length})`);
    }
    params.push(filter.limit + 1);
    return this.dataSource.query<CheckoutRow[]>(
      `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY c."machine_name", c."path" LIMIT $${params.length}`,
      params,
    );
  }
}
