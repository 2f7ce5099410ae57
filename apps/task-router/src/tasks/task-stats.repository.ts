import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { TaskState } from '@waggle/contracts';
import { singleRow } from '@waggle/persistence';

const T = '"task_router"."tasks"';

/** Counts for the metrics, read when Prometheus scrapes (never on a request path). */
@Injectable()
export class TaskStatsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Tasks waiting or running, by state (finished ones are counted as they finish). One count
   * per state, so each is served by a partial index (queued tasks, leased tasks) and costs the
   * live tasks only: a GROUP BY over `state IN (...)` walks the whole (machine_id, state) index,
   * every task ever made.
   */
  async countLive(): Promise<Partial<Record<TaskState, number>>> {
    const rows = await this.dataSource.query<Record<'queued' | 'assigned' | 'running', number>[]>(
      `SELECT (SELECT count(*)::int FROM ${T} WHERE "state" = 'queued') AS "queued",
              (SELECT count(*)::int FROM ${T} WHERE "state" = 'assigned') AS "assigned",
              (SELECT count(*)::int FROM ${T} WHERE "state" = 'running') AS "running"`,
    );
    return singleRow(rows, 'live task counts');
  }
}
