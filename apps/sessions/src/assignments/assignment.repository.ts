import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type { AssignmentState, AssignmentView, ListAssignmentsRequest, Page, SessionState } from '@waggle/contracts';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, isTimeCursor } from '@waggle/contracts';
import { updateReturning } from '@waggle/persistence';

export interface AssignmentRow {
  id: string;
  prompt: string;
  priority: number;
  state: AssignmentState;
  target_machine: string | null;
  target_session: string | null;
  capability: string | null;
  labels: string[];
  timeout_seconds: number;
  retries: number;
  attempts: number;
  machine_id: string | null;
  machine_name: string | null;
  session: string | null;
  turn: number | null;
  reason: string | null;
  created_at: Date;
  assigned_at: Date | null;
  finished_at: Date | null;
}

/** An assignment in flight beside the session it was typed into (none if the session is gone). */
export interface ActiveAssignment extends AssignmentRow {
  session_state: SessionState | null;
  session_turn: number | null;
  timed_out: boolean;
}

export function toAssignmentView(row: AssignmentRow): AssignmentView {
  return {
    id: row.id,
    prompt: row.prompt,
    priority: row.priority,
    state: row.state,
    target: row.target_machine && row.target_session ? `${row.target_machine}:${row.target_session}` : null,
    capability: row.capability,
    labels: row.labels,
    timeoutSeconds: row.timeout_seconds,
    retries: row.retries,
    attempts: row.attempts,
    session: row.machine_name && row.session ? `${row.machine_name}:${row.session}` : null,
    reason: row.reason,
    createdAt: row.created_at.toISOString(),
    assignedAt: row.assigned_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}

const T = '"sessions"."assignments"';
/** One placement pass at a time across replicas (the number is this table's own). */
const ASSIGNER_LOCK = 0x5e55_1045;

/** The assigner's queue: every change is a conditional update on the state it expects. */
@Injectable()
export class AssignmentRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Takes the assigner's lock for the caller's transaction; false when another replica holds it. */
  async lock(manager: EntityManager): Promise<boolean> {
    const [row] = await manager.query<{ locked: boolean }[]>(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [
      ASSIGNER_LOCK,
    ]);
    return row?.locked === true;
  }

  async insert(
    manager: EntityManager,
    row: Pick<
      AssignmentRow,
      | 'id'
      | 'prompt'
      | 'priority'
      | 'target_machine'
      | 'target_session'
      | 'capability'
      | 'labels'
      | 'timeout_seconds'
      | 'retries'
    >,
  ): Promise<AssignmentRow> {
    const [created] = await manager.query<AssignmentRow[]>(
      `INSERT INTO ${T} ("id", "prompt", "priority", "state", "target_machine", "target_session", "capability", "labels",
         "timeout_seconds", "retries")
       VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9) RETURNING *`,
      [
        row.id,
        row.prompt,
        row.priority,
        row.target_machine,
        row.target_session,
        row.capability,
        row.labels,
        row.timeout_seconds,
        row.retries,
      ],
    );
    return created!;
  }

  async find(id: string, manager: EntityManager = this.dataSource.manager): Promise<AssignmentRow | undefined> {
    const [row] = await manager.query<AssignmentRow[]>(`SELECT * FROM ${T} WHERE "id" = $1`, [id]);
    return row;
  }

  async list(req: ListAssignmentsRequest): Promise<Page<AssignmentView>> {
    const limit = req.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(req.cursor, isTimeCursor);
    const params: unknown[] = [limit + 1];
    const where: string[] = [];
    if (req.state) {
      params.push(req.state);
      where.push(`"state" = $${params.length}`);
    }
    if (after) {
      params.push(after.at, after.id);
      where.push(`("created_at", "id") < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    const rows = await this.dataSource.query<AssignmentRow[]>(
      `SELECT * FROM ${T} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY "created_at" DESC, "id" DESC LIMIT $1`,
      params,
    );
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toAssignmentView),
      nextCursor: more && last ? encodeCursor({ at: last.created_at.toISOString(), id: last.id }) : undefined,
    };
  }

  /** Assignments typed into a session, with that session as last reported. */
  async findActive(manager: EntityManager): Promise<ActiveAssignment[]> {
    return manager.query<ActiveAssignment[]>(
      `SELECT a.*, s."state" AS "session_state", s."turn" AS "session_turn",
         a."assigned_at" + make_interval(secs => a."timeout_seconds") < now() AS "timed_out"
       FROM ${T} a
       LEFT JOIN "sessions"."sessions" s ON s."machine_id" = a."machine_id" AND s."name" = a."session"
       WHERE a."state" IN ('assigned', 'in_progress')
       FOR UPDATE OF a`,
    );
  }

  async findQueued(manager: EntityManager): Promise<AssignmentRow[]> {
    return manager.query<AssignmentRow[]>(
      `SELECT * FROM ${T} WHERE "state" = 'queued' ORDER BY "priority" DESC, "created_at" LIMIT 500 FOR UPDATE SKIP LOCKED`,
    );
  }

  /** Moves an assignment from one of `from` to `to`, setting `fields`; the row after, or none if it was not in `from`. */
  async transition(
    manager: EntityManager,
    id: string,
    from: readonly AssignmentState[],
    to: AssignmentState,
    fields: Partial<
      Pick<
        AssignmentRow,
        'machine_id' | 'machine_name' | 'session' | 'turn' | 'reason' | 'target_machine' | 'target_session'
      >
    > & {
      attempts?: 'increment';
      assigned?: boolean;
    } = {},
  ): Promise<AssignmentRow | undefined> {
    const sets = [`"state" = $3`];
    const params: unknown[] = [id, from, to];
    for (const column of [
      'machine_id',
      'machine_name',
      'session',
      'turn',
      'reason',
      'target_machine',
      'target_session',
    ] as const) {
      if (column in fields) {
        params.push(fields[column]);
        sets.push(`"${column}" = $${params.length}`);
      }
    }
    if (fields.attempts === 'increment') {
      sets.push(`"attempts" = "attempts" + 1`);
    }
    if (fields.assigned) {
      sets.push(`"assigned_at" = now()`);
    }
    sets.push(`"finished_at" = ${to === 'completed' || to === 'failed' || to === 'cancelled' ? 'now()' : 'NULL'}`);
    const [row] = await updateReturning<AssignmentRow>(
      manager,
      `UPDATE ${T} SET ${sets.join(', ')} WHERE "id" = $1 AND "state" = ANY($2::text[]) RETURNING *`,
      params,
    );
    return row;
  }

  async clearFinished(olderThanSeconds: number): Promise<number> {
    const rows = await updateReturning<{ id: string }>(
      this.dataSource,
      `DELETE FROM ${T} WHERE "state" IN ('completed', 'failed', 'cancelled')
         AND "finished_at" <= now() - make_interval(secs => $1) RETURNING "id"`,
      [olderThanSeconds],
    );
    return rows.length;
  }
}
