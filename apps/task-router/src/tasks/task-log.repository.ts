import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { LogChunk, LogChunkView } from '@waggle/contracts';

import { TaskTables } from './task.repository';

const T = TaskTables.tasks;
const A = TaskTables.attempts;
const L = '"task_router"."task_logs"';

/** Task output: the log chunks of current attempts, kept up to a size per task, read in pages. */
@Injectable()
export class TaskLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores log chunks of current attempts only: a chunk from a superseded or lost attempt
   * (a zombie agent) is refused. Keeps at most `limitBytes` per task, dropping the oldest.
   */
  async appendFromCurrentAttempts(
    chunks: (LogChunk & { machineId: string })[],
    limitBytes: number,
  ): Promise<LogChunk[]> {
    if (!chunks.length) {
      return [];
    }
    const accepted = await this.dataSource.query<
      { task_id: string; attempt: number; seq: number; stream: 'stdout' | 'stderr'; data: string; at: Date }[]
    >(
      `INSERT INTO ${L} ("task_id", "attempt", "seq", "stream", "data", "at")
       SELECT c.task_id, c.attempt, c.seq, c.stream, c.data, c.at
       FROM jsonb_to_recordset($1::jsonb) AS c(task_id uuid, attempt int, seq int, stream text, data text, at timestamptz, machine_id uuid)
       JOIN ${T} t ON t."id" = c.task_id AND t."attempt" = c.attempt
       JOIN ${A} a ON a."task_id" = c.task_id AND a."attempt" = c.attempt AND a."machine_id" = c.machine_id AND a."state" <> 'lost'
       ON CONFLICT DO NOTHING
       RETURNING "task_id", "attempt", "seq", "stream", "data", "at"`,
      [
        JSON.stringify(
          chunks.map((c) => ({
            task_id: c.taskId,
            attempt: c.attempt,
            seq: c.seq,
            stream: c.stream,
            data: c.data,
            at: c.at,
            machine_id: c.machineId,
          })),
        ),
      ],
    );
    const taskIds = [...new Set(accepted.map((r) => r.task_id))];
    if (taskIds.length) {
      await this.dataSource.query(
        `DELETE FROM ${L} WHERE "id" IN (
           SELECT "id" FROM (SELECT "id", sum(length("data")) OVER (PARTITION BY "task_id" ORDER BY "id" DESC) AS kept FROM ${L} WHERE "task_id" = ANY($1::uuid[])) x
           WHERE x.kept > $2)`,
        [taskIds, limitBytes],
      );
    }
    return accepted.map((r) => ({
      v: 1,
      taskId: r.task_id,
      attempt: r.attempt,
      seq: r.seq,
      stream: r.stream,
      data: r.data,
      at: new Date(r.at).toISOString(),
    }));
  }

  async pageAfter(taskId: string, after: number, limit: number): Promise<{ items: LogChunkView[]; next: number }> {
    const rows = await this.dataSource.query<
      { id: string; attempt: number; stream: 'stdout' | 'stderr'; data: string; at: Date }[]
    >(
      `SELECT "id", "attempt", "stream", "data", "at" FROM ${L} WHERE "task_id" = $1 AND "id" > $2 ORDER BY "id" LIMIT $3`,
      [taskId, after, limit],
    );
    return {
      items: rows.map((r) => ({
        seq: Number(r.id),
        attempt: r.attempt,
        stream: r.stream,
        data: r.data,
        at: r.at.toISOString(),
      })),
      next: rows.length ? Number(rows.at(-1)!.id) : after,
    };
  }
}
