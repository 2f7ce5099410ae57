import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { PlanSources, PlanState, ProposedFeature, ProposedMilestone } from '@waggle/contracts';
import type { Queryable } from '@waggle/persistence';
import { singleRow, updateReturning } from '@waggle/persistence';

export interface PlanRow {
  id: string;
  project_id: string;
  state: PlanState;
  proposal: { milestone: ProposedMilestone; features: ProposedFeature[] };
  sources: PlanSources;
  created_by: string;
  created_at: Date;
  decided_at: Date | null;
}

const PL = '"tracker"."plans"';

@Injectable()
export class PlanRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(row: Pick<PlanRow, 'id' | 'project_id' | 'proposal' | 'sources' | 'created_by'>): Promise<PlanRow> {
    const rows = await this.dataSource.query<PlanRow[]>(
      `INSERT INTO ${PL} ("id", "project_id", "proposal", "sources", "created_by") VALUES ($1, $2, $3::jsonb, $4::jsonb, $5)
       RETURNING *`,
      [row.id, row.project_id, JSON.stringify(row.proposal), JSON.stringify(row.sources), row.created_by],
    );
    return singleRow(rows, 'insert plan');
  }

  async findById(id: string): Promise<PlanRow | null> {
    const [row] = await this.dataSource.query<PlanRow[]>(`SELECT * FROM ${PL} WHERE "id" = $1`, [id]);
    return row ?? null;
  }

  /** Takes a proposed plan for its decision (one decision per plan); null when it was decided already. */
  async decide(db: Queryable, id: string): Promise<PlanRow | null> {
    const [row] = await updateReturning<PlanRow>(
      db,
      `UPDATE ${PL} SET "state" = 'accepted', "decided_at" = now() WHERE "id" = $1 AND "state" = 'proposed' RETURNING *`,
      [id],
    );
    return row ?? null;
  }
}
