import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type { HelpState, HelpView, TaskRequirements } from '@waggle/contracts';
import { singleRow } from '@waggle/persistence';

interface HelpRow {
  id: string;
  parent_task_id: string;
  parent_attempt: number;
  from_machine_id: string;
  from_name: string;
  reason: string;
  requires: TaskRequirements;
  state: HelpState;
  helper_machine_id: string | null;
  helper_name: string | null;
  eta_seconds: number | null;
  child_task_id: string | null;
  answers: HelpView['answers'];
  created_at: Date;
}

export type NewHelp = Omit<HelpRow, 'created_at'>;

const H = '"task_router"."help_requests"';

function toView(row: HelpRow): HelpView {
  return {
    id: row.id,
    parentTaskId: row.parent_task_id,
    parentAttempt: row.parent_attempt,
    from: { machineId: row.from_machine_id, name: row.from_name },
    reason: row.reason,
    requires: row.requires,
    state: row.state,
    helper: row.helper_machine_id ? { machineId: row.helper_machine_id, name: row.helper_name ?? '' } : null,
    etaSeconds: row.eta_seconds,
    childTaskId: row.child_task_id,
    answers: row.answers,
    createdAt: row.created_at.toISOString(),
  };
}

/** Help requests of running tasks: who asked, who was asked and answered what, which child task came of it. */
@Injectable()
export class HelpRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, help: NewHelp): Promise<HelpView> {
    const rows = await manager.query<HelpRow[]>(
      `INSERT INTO ${H} ("id", "parent_task_id", "parent_attempt", "from_machine_id", "from_name", "reason", "requires", "state",
         "helper_machine_id", "helper_name", "eta_seconds", "child_task_id", "answers")
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
      [
        help.id,
        help.parent_task_id,
        help.parent_attempt,
        help.from_machine_id,
        help.from_name,
        help.reason,
        JSON.stringify(help.requires),
        help.state,
        help.helper_machine_id,
        help.helper_name,
        help.eta_seconds,
        help.child_task_id,
        JSON.stringify(help.answers),
      ],
    );
    return toView(singleRow(rows, 'insert help request'));
  }

  /** A help request of this parent task, or null. */
  async findOfParent(helpId: string, parentTaskId: string): Promise<HelpView | null> {
    const [row] = await this.dataSource.query<HelpRow[]>(
      `SELECT * FROM ${H} WHERE "id" = $1 AND "parent_task_id" = $2`,
      [helpId, parentTaskId],
    );
    return row ? toView(row) : null;
  }

  /** Every help request of these tasks, oldest first. */
  async ofParents(taskIds: string[]): Promise<Map<string, HelpView[]>> {
    const byTask = new Map<string, HelpView[]>();
    if (!taskIds.length) {
      return byTask;
    }
    const rows = await this.dataSource.query<HelpRow[]>(
      `SELECT * FROM ${H} WHERE "parent_task_id" = ANY($1::uuid[]) ORDER BY "created_at", "id"`,
      [taskIds],
    );
    for (const row of rows) {
      byTask.set(row.parent_task_id, [...(byTask.get(row.parent_task_id) ?? []), toView(row)]);
    }
    return byTask;
  }
}
