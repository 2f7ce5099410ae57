import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type {
  AttemptState,
  AttemptView,
  HelpView,
  Page,
  RetryPolicy,
  TaskKind,
  TaskResult,
  TaskState,
  TaskView,
} from '@waggle/contracts';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, isTimeCursor } from '@waggle/contracts';

import type { TaskRow } from './task.repository';
import { TaskTables } from './task.repository';

interface AttemptRow {
  task_id: string;
  attempt: number;
  machine_id: string;
  machine_name: string;
  state: AttemptState;
  assigned_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  result: TaskResult | null;
}

const T = TaskTables.tasks;
const A = TaskTables.attempts;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** What people read: pages of tasks (newest first, by cursor), their attempts, and the task's view. */
/** What a task without a policy of its own does: a lost attempt is tried again, at once; a failure is final. */
const DEFAULT_RETRY_POLICY: RetryPolicy = { on: ['lost'], exitCodes: [], backoffSeconds: 0 };

/** A machine sees the tasks it runs, ran, is targeted by or created. */
function visibleToSql(p: string): string {
  return `("machine_id" = ${p}::uuid OR "target_machine_id" = ${p}::uuid OR "created_by"->>'machineId' = ${p}::text OR "id" IN (SELECT "task_id" FROM ${A} WHERE "machine_id" = ${p}::uuid))`;
}

@Injectable()
export class TaskViewRepository {
  constructor(private readonly dataSource: DataSource) {}

  async attemptsOf(taskIds: string[]): Promise<Map<string, AttemptView[]>> {
    const byTask = new Map<string, AttemptView[]>();
    if (!taskIds.length) {
      return byTask;
    }
    const rows = await this.dataSource.query<AttemptRow[]>(
      `SELECT * FROM ${A} WHERE "task_id" = ANY($1::uuid[]) ORDER BY "attempt"`,
      [taskIds],
    );
    for (const r of rows) {
      const view: AttemptView = {
        attempt: r.attempt,
        machineId: r.machine_id,
        machineName: r.machine_name,
        state: r.state,
        assignedAt: r.assigned_at.toISOString(),
        startedAt: iso(r.started_at),
        endedAt: iso(r.ended_at),
        result: r.result,
      };
      byTask.set(r.task_id, [...(byTask.get(r.task_id) ?? []), view]);
    }
    return byTask;
  }

  async list(query: {
    state?: TaskState;
    machineId?: string;
    visibleTo?: string;
    kind?: TaskKind;
    limit?: number;
    cursor?: string;
  }): Promise<Page<TaskRow>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const params: unknown[] = [limit + 1];
    const where: string[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (query.state) {
      add((p) => `"state" = ${p}`, query.state);
    }
    if (query.kind) {
      add((p) => `"kind" = ${p}`, query.kind);
    }
    if (query.machineId) {
      add(
        (p) => `("machine_id" = ${p}::uuid OR "id" IN (SELECT "task_id" FROM ${A} WHERE "machine_id" = ${p}::uuid))`,
        query.machineId,
      );
    }
    if (query.visibleTo) {
      add(visibleToSql, query.visibleTo);
    }
    const after = decodeCursor(query.cursor, isTimeCursor);
    if (after) {
      params.push(after.at, after.id);
      where.push(`("created_at", "id") < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    const rows = await this.dataSource.query<(TaskRow & { created_at_exact: string })[]>(
      // The cursor keeps Postgres's own text of created_at: a JS Date would drop its microseconds.
      `SELECT *, "created_at"::text AS "created_at_exact" FROM ${T} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY "created_at" DESC, "id" DESC LIMIT $1`,
      params,
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.created_at_exact, id: last.id }) : undefined,
    };
  }

  /** Up to `limit` ids in [lo, hi] (the ids an id prefix stands for), among those `visibleTo` may see when set. */
  async idsInRange(range: { lo: string; hi: string }, visibleTo: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT "id" FROM ${T} WHERE "id" BETWEEN $1::uuid AND $2::uuid ${visibleTo ? `AND ${visibleToSql('$4')}` : ''}
       ORDER BY "id" LIMIT $3`,
      [range.lo, range.hi, limit, ...(visibleTo ? [visibleTo] : [])],
    );
    return rows.map((r) => r.id);
  }

  toView(row: TaskRow, attempts: AttemptView[], help: HelpView[]): TaskView {
    return {
      id: row.id,
      title: row.title,
      kind: row.kind,
      input: row.input,
      target: row.target_machine_id ? { machineId: row.target_machine_id, name: row.target_name ?? '' } : null,
      requires: row.requires,
      priority: row.priority,
      timeoutSeconds: row.timeout_seconds,
      maxAttempts: row.max_attempts,
      retry: row.retry_policy ?? DEFAULT_RETRY_POLICY,
      retryAt: row.state === 'queued' && row.not_before ? row.not_before.toISOString() : null,
      state: row.state,
      attempt: row.attempt,
      machine: row.machine_id ? { machineId: row.machine_id, name: row.machine_name ?? '' } : null,
      createdBy: row.created_by,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
      result: row.result,
      waiting: row.state === 'queued' ? row.waiting : null,
      parentTaskId: row.parent_task_id,
      secrets: row.secrets ?? {},
      project: row.project ?? null,
      help,
      attempts,
    };
  }
}
