import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { TaskState, TaskStats } from '@waggle/contracts';
import { singleRow } from '@waggle/persistence';

const T = '"task_router"."tasks"';

/** Counts for the metrics (read when Prometheus scrapes) and for the gateway's overview. */
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

  /**
   * The overview's counts: live tasks (partial indexes, as above) and tasks that ended well
   * or badly since `since` (index `tasks_finished`: today's finished tasks only).
   */
  async countForOverview(since: Date): Promise<TaskStats> {
    const rows = await this.dataSource.query<TaskStats[]>(
      `SELECT (SELECT count(*)::int FROM ${T} WHERE "state" = 'queued') AS "queued",
              (SELECT count(*)::int FROM ${T} WHERE "state" = 'assigned')
                + (SELECT count(*)::int FROM ${T} WHERE "state" = 'running') AS "running",
              (SELECT count(*)::int FROM ${T} WHERE "state" = 'succeeded' AND "updated_at" >= $1) AS "succeededSince",
              (SELECT count(*)::int FROM ${T} WHERE "state" IN ('failed', 'timed_out') AND "updated_at" >= $1) AS "failedSince"`,
      [since],
    );
    return singleRow(rows, 'overview task counts');
  }
}
