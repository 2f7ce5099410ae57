import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type {
  RetryPolicy,
  Sender,
  TaskInput,
  TaskKind,
  TaskOutcome,
  TaskRequirements,
  TaskResult,
  TaskState,
  WaitingReason,
} from '@waggle/contracts';
import type { IdempotentTable } from '@waggle/persistence';
import { findByIdempotencyKey, updateReturning } from '@waggle/persistence';

export interface TaskRow {
  id: string;
  title: string;
  kind: TaskKind;
  input: TaskInput;
  target_machine_id: string | null;
  target_name: string | null;
  requires: TaskRequirements;
  priority: number;
  timeout_seconds: number;
  max_attempts: number;
  /** null: the default policy (lost attempts only). */
  retry_policy: RetryPolicy | null;
  /** Queued after a failure: no attempt before this. */
  not_before: Date | null;
  state: TaskState;
  attempt: number;
  machine_id: string | null;
  machine_name: string | null;
  lease_expires_at: Date | null;
  cancel_requested: boolean;
  result: TaskResult | null;
  waiting: WaitingReason | null;
  parent_task_id: string | null;
  /** Environment variable → secret name ({} when none). */
  secrets: Record<string, string>;
  project: string | null;
  idempotency_key: string | null;
  idempotency_fingerprint: string | null;
  created_by: Sender;
  created_at: Date;
  updated_at: Date;
}

export type NewTask = Pick<
  TaskRow,
  | 'id'
  | 'title'
  | 'kind'
  | 'input'
  | 'target_machine_id'
  | 'target_name'
  | 'requires'
  | 'priority'
  | 'timeout_seconds'
  | 'max_attempts'
  | 'retry_policy'
  | 'parent_task_id'
  | 'secrets'
  | 'project'
  | 'idempotency_key'
  | 'idempotency_fingerprint'
  | 'created_by'
>;

export interface MachineRef {
  machineId: string;
  name: string;
}

/** A task that changed state, for its event. */
export interface Transition {
  id: string;
  title: string;
  state: TaskState;
  attempt: number;
  machineId: string | null;
}

/** Seconds before the first retry of a failure when the policy names none (doubled per attempt). */
export const DEFAULT_BACKOFF_SECONDS = 5;

/** The task router's tables, for the repositories that read beside this one. */
export const TaskTables = { tasks: '"task_router"."tasks"', attempts: '"task_router"."attempts"' } as const;
const T = TaskTables.tasks;

/** A create's Idempotency-Key stays on its task for the key's lifetime. */
export const TASK_KEYS: IdempotentTable = { table: TaskTables.tasks, createdAt: 'created_at' };
const A = TaskTables.attempts;

/**
 * Task state: creation, placement, claim, renewal, result, expiry, cancel and retry. Every
 * state change is a conditional UPDATE on (state, attempt, machine), the attempt being the
 * fencing token: whoever loses a race changes nothing and is told so. Plain SQL throughout.
 */
@Injectable()
export class TaskRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts a queued task; with an idempotency key already used, inserts nothing and returns null. */
  async insert(manager: EntityManager, task: NewTask): Promise<TaskRow | null> {
    const [row] = await manager.query<TaskRow[]>(
      `INSERT INTO ${T} ("id", "title", "kind", "input", "target_machine_id", "target_name", "requires", "priority", "timeout_seconds", "max_attempts", "parent_task_id", "created_by", "idempotency_key", "idempotency_fingerprint", "retry_policy", "state", "secrets", "project")
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'queued', $16, $17)
       ON CONFLICT ("idempotency_key") WHERE "idempotency_key" IS NOT NULL DO NOTHING RETURNING *`,
      [
        task.id,
        task.title,
        task.kind,
        JSON.stringify(task.input),
        task.target_machine_id,
        task.target_name,
        JSON.stringify(task.requires),
        task.priority,
        task.timeout_seconds,
        task.max_attempts,
        task.parent_task_id,
        JSON.stringify(task.created_by),
        task.idempotency_key,
        task.idempotency_fingerprint,
        task.retry_policy && JSON.stringify(task.retry_policy),
        JSON.stringify(task.secrets),
        task.project,
      ],
    );
    return row ?? null;
  }

  /** The task a create with this key made, while the key lives (an expired key is released). */
  async findByIdempotencyKey(
    key: string,
    ttlSeconds: number,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<TaskRow | null> {
    return (await findByIdempotencyKey<TaskRow>(manager, TASK_KEYS, key, ttlSeconds)) ?? null;
  }

  async findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<TaskRow | null> {
    const [row] = await manager.query<TaskRow[]>(`SELECT * FROM ${T} WHERE "id" = $1`, [id]);
    return row ?? null;
  }

  /** Queued tasks in placement order: higher priority first, then oldest. */
  async queued(limit: number, manager: EntityManager): Promise<TaskRow[]> {
    return manager.query<TaskRow[]>(
      `SELECT * FROM ${T} WHERE "state" = 'queued' AND ("not_before" IS NULL OR "not_before" <= now())
       ORDER BY "priority" DESC, "created_at", "id" LIMIT $1`,
      [limit],
    );
  }

  /**
   * Machines holding assigned, unclaimed tasks of which one was assigned longer ago than
   * `settledSeconds` (by then its assignment is in JetStream), with how many they hold.
   */
  async assignedByMachine(settledSeconds: number): Promise<{ machineId: string; count: number }[]> {
    const rows = await this.dataSource.query<{ machine_id: string; n: number }[]>(
      `SELECT "machine_id", count(*)::int AS n FROM ${T} WHERE "state" = 'assigned' AND "machine_id" IS NOT NULL
       GROUP BY "machine_id" HAVING min("updated_at") < now() - $1::int * interval '1 second'`,
      [settledSeconds],
    );
    return rows.map((r) => ({ machineId: r.machine_id, count: r.n }));
  }

  /** A machine's assigned, unclaimed tasks, oldest assignment first. */
  async assignedTo(machineId: string): Promise<TaskRow[]> {
    return this.dataSource.query<TaskRow[]>(
      `SELECT * FROM ${T} WHERE "state" = 'assigned' AND "machine_id" = $1 ORDER BY "updated_at", "id"`,
      [machineId],
    );
  }

  /** Tasks assigned or running per machine (the slots they use). */
  async activeCounts(manager: EntityManager): Promise<Map<string, number>> {
    const rows = await manager.query<{ machine_id: string; n: number }[]>(
      `SELECT "machine_id", count(*)::int AS n FROM ${T} WHERE "state" IN ('assigned', 'running') AND "machine_id" IS NOT NULL GROUP BY "machine_id"`,
    );
    return new Map(rows.map((r) => [r.machine_id, r.n]));
  }

  /**
   * Assigns a queued task to a machine as the next attempt. `claimWindowSeconds` null: no
   * deadline (a targeted task waits in its machine's queue while the machine is off).
   */
  async assign(
    manager: EntityManager,
    task: TaskRow,
    machine: MachineRef,
    claimWindowSeconds: number | null,
  ): Promise<TaskRow | null> {
    const [row] = await updateReturning<TaskRow>(
      manager,
      `UPDATE ${T} SET "state" = 'assigned', "attempt" = "attempt" + 1, "machine_id" = $3, "machine_name" = $4, "waiting" = NULL, "not_before" = NULL, "updated_at" = now(),
         "lease_expires_at" = CASE WHEN $5::int IS NULL THEN NULL ELSE now() + $5::int * interval '1 second' END
       WHERE "id" = $1 AND "state" = 'queued' AND "attempt" = $2 RETURNING *`,
      [task.id, task.attempt, machine.machineId, machine.name, claimWindowSeconds],
    );
    if (!row) {
      return null;
    }
    await manager.query(
      `INSERT INTO ${A} ("task_id", "attempt", "machine_id", "machine_name", "state") VALUES ($1, $2, $3, $4, 'assigned')`,
      [row.id, row.attempt, machine.machineId, machine.name],
    );
    return row;
  }

  async setWaiting(manager: EntityManager, waits: { id: string; waiting: WaitingReason }[]): Promise<void> {
    if (!waits.length) {
      return;
    }
    await manager.query(
      `UPDATE ${T} AS t SET "waiting" = w.waiting FROM jsonb_to_recordset($1::jsonb) AS w(id uuid, waiting jsonb) WHERE t."id" = w.id AND t."state" = 'queued' AND t."waiting" IS DISTINCT FROM w.waiting`,
      [JSON.stringify(waits)],
    );
  }

  /** The machine starts the attempt it was assigned, unless it was superseded or cancelled. */
  async claim(
    manager: EntityManager,
    machineId: string,
    taskId: string,
    attempt: number,
    leaseSeconds: number,
  ): Promise<TaskRow | null> {
    const [row] = await updateReturning<TaskRow>(
      manager,
      `UPDATE ${T} SET "state" = 'running', "lease_expires_at" = now() + $4::int * interval '1 second', "updated_at" = now()
       WHERE "id" = $1 AND "attempt" = $2 AND "machine_id" = $3 AND "state" = 'assigned' AND NOT "cancel_requested" RETURNING *`,
      [taskId, attempt, machineId, leaseSeconds],
    );
    if (row) {
      await manager.query(
        `UPDATE ${A} SET "state" = 'running', "started_at" = now() WHERE "task_id" = $1 AND "attempt" = $2`,
        [taskId, attempt],
      );
    }
    return row ?? null;
  }

  /** Extends the lease of a running attempt; null when the attempt is no longer current. */
  async renew(
    machineId: string,
    taskId: string,
    attempt: number,
    leaseSeconds: number,
  ): Promise<{ cancel: boolean } | null> {
    const rows = await updateReturning<{ cancel_requested: boolean }>(
      this.dataSource,
      `UPDATE ${T} SET "lease_expires_at" = now() + $4::int * interval '1 second'
       WHERE "id" = $1 AND "attempt" = $2 AND "machine_id" = $3 AND "state" = 'running' RETURNING "cancel_requested"`,
      [taskId, attempt, machineId, leaseSeconds],
    );
    return rows[0] ? { cancel: rows[0].cancel_requested } : null;
  }

  /** Records the result of the current attempt, once; a superseded attempt's result changes nothing. */
  async complete(
    manager: EntityManager,
    machineId: string,
    taskId: string,
    attempt: number,
    outcome: TaskOutcome,
    result: TaskResult,
  ): Promise<TaskRow | null> {
    // Its retry policy decides, in the same statement, whether a failure queues the task
    // again (after the backoff, doubled per attempt) or ends it.
    const [row] = await updateReturning<TaskRow>(
      manager,
      `WITH cur AS (
         SELECT "id", NOT "cancel_requested" AND "attempt" < "max_attempts" AND (
             ($4 = 'timed_out' AND COALESCE("retry_policy"->'on', '[]') ? 'timeout')
             OR ($4 = 'failed' AND (COALESCE("retry_policy"->'on', '[]') ? 'failure'
               OR ($6::int IS NOT NULL AND COALESCE("retry_policy"->'exitCodes', '[]') @> to_jsonb($6::int))))
           ) AS again
         FROM ${T} WHERE "id" = $1 AND "attempt" = $2 AND "machine_id" = $3 AND "state" = 'running' FOR UPDATE
       )
       UPDATE ${T} AS t SET
         "state" = CASE WHEN cur.again THEN 'queued' ELSE $4 END,
         "result" = CASE WHEN cur.again THEN NULL ELSE $5::jsonb END,
         "machine_id" = CASE WHEN cur.again THEN NULL ELSE t."machine_id" END,
         "machine_name" = CASE WHEN cur.again THEN NULL ELSE t."machine_name" END,
         "not_before" = CASE WHEN cur.again THEN now() + LEAST(3600,
             COALESCE((t."retry_policy"->>'backoffSeconds')::int, ${DEFAULT_BACKOFF_SECONDS}) * 2 ^ (t."attempt" - 1)) * interval '1 second' END,
         "lease_expires_at" = NULL, "updated_at" = now()
       FROM cur WHERE t."id" = cur."id" RETURNING t.*`,
      [taskId, attempt, machineId, outcome, JSON.stringify(result), result.exitCode],
    );
    if (row) {
      await manager.query(
        `UPDATE ${A} SET "state" = $3, "ended_at" = now(), "result" = $4 WHERE "task_id" = $1 AND "attempt" = $2`,
        [taskId, attempt, outcome, JSON.stringify(result)],
      );
    }
    return row ?? null;
  }

  /**
   * Attempts whose lease expired are lost: the task is queued again for its next attempt,
   * or fails (cancelled, if that was asked) when it has used all its attempts. Each
   * transition names the machine that lost the attempt.
   */
  expireLeases(manager: EntityManager): Promise<Transition[]> {
    return this.loseAttempts(
      manager,
      `SELECT "id", "attempt", "machine_id" FROM ${T}
       WHERE "state" IN ('assigned', 'running') AND "lease_expires_at" < now() FOR UPDATE SKIP LOCKED`,
      [],
      'lost its lease (machine died or lost contact)',
    );
  }

  /**
   * A stopping machine hands back an attempt it will not finish: lost at once, as if its
   * lease had run out, if it is still this machine's current attempt (fenced by the number).
   */
  async releaseAttempt(
    manager: EntityManager,
    machineId: string,
    taskId: string,
    attempt: number,
  ): Promise<Transition | undefined> {
    const [released] = await this.loseAttempts(
      manager,
      `SELECT "id", "attempt", "machine_id" FROM ${T}
       WHERE "id" = $1 AND "attempt" = $2 AND "machine_id" = $3::uuid AND "state" IN ('assigned', 'running') FOR UPDATE`,
      [taskId, attempt, machineId],
      'was handed back: its machine stopped',
    );
    return released;
  }

  /** The attempts `selection` picks (id, attempt, machine_id) are lost; `why` ends the failure's error. */
  private async loseAttempts(
    manager: EntityManager,
    selection: string,
    params: unknown[],
    why: string,
  ): Promise<Transition[]> {
    const rows = await updateReturning<{
      id: string;
      title: string;
      state: TaskState;
      attempt: number;
      lost_machine_id: string;
    }>(
      manager,
      `WITH picked AS (${selection})
       UPDATE ${T} AS t SET
         "state" = CASE WHEN t."cancel_requested" THEN 'cancelled' WHEN t."attempt" >= t."max_attempts" THEN 'failed' ELSE 'queued' END,
         "result" = CASE WHEN t."cancel_requested" OR t."attempt" >= t."max_attempts"
           THEN jsonb_build_object('outcome', CASE WHEN t."cancel_requested" THEN 'cancelled' ELSE 'failed' END, 'exitCode', NULL, 'durationMs', 0,
                'outputTail', '', 'error', 'attempt ' || t."attempt" || ' ' || $${params.length + 1}::text)
           ELSE t."result" END,
         "machine_id" = NULL, "machine_name" = NULL, "lease_expires_at" = NULL, "updated_at" = now()
       FROM picked p WHERE t."id" = p."id"
       RETURNING t."id", t."title", t."state", t."attempt", p."machine_id" AS lost_machine_id`,
      [...params, why],
    );
    if (rows.length) {
      await manager.query(
        `UPDATE ${A} AS a SET "state" = 'lost', "ended_at" = now() FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, attempt int)
         WHERE a."task_id" = x.id AND a."attempt" = x.attempt`,
        [JSON.stringify(rows.map((r) => ({ id: r.id, attempt: r.attempt })))],
      );
    }
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      state: r.state,
      attempt: r.attempt,
      machineId: r.lost_machine_id,
    }));
  }

  /** Running tasks past their timeout by a grace period (their agent did not stop them): marked timed out. */
  async expireOverdue(manager: EntityManager, graceSeconds: number): Promise<Transition[]> {
    const rows = await updateReturning<{
      id: string;
      title: string;
      state: TaskState;
      attempt: number;
      machine_id: string;
    }>(
      manager,
      `UPDATE ${T} AS t SET "state" = 'timed_out', "cancel_requested" = true, "lease_expires_at" = NULL, "updated_at" = now(),
         "result" = jsonb_build_object('outcome', 'timed_out', 'exitCode', NULL, 'durationMs', t."timeout_seconds" * 1000, 'outputTail', '', 'error', 'timed out (the machine did not report)')
       FROM ${A} a
       WHERE a."task_id" = t."id" AND a."attempt" = t."attempt" AND t."state" = 'running'
         AND a."started_at" < now() - (t."timeout_seconds" + $1::int) * interval '1 second'
       RETURNING t."id", t."title", t."state", t."attempt", t."machine_id"`,
      [graceSeconds],
    );
    if (rows.length) {
      await manager.query(
        `UPDATE ${A} AS a SET "state" = 'timed_out', "ended_at" = now() FROM unnest($1::uuid[], $2::int[]) AS x(id, attempt) WHERE a."task_id" = x.id AND a."attempt" = x.attempt`,
        [rows.map((r) => r.id), rows.map((r) => r.attempt)],
      );
    }
    return rows.map((r) => ({ id: r.id, title: r.title, state: r.state, attempt: r.attempt, machineId: r.machine_id }));
  }

  /** Machines that unfinished targeted tasks wait for. */
  async waitedForTargets(): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT DISTINCT "target_machine_id" AS id FROM ${T} WHERE "state" IN ('queued', 'assigned') AND "target_machine_id" IS NOT NULL`,
    );
    return rows.map((r) => r.id);
  }

  /** Fails the unstarted tasks targeted at these (revoked) machines: they would wait for ever. */
  async failTargeting(manager: EntityManager, machineIds: string[], error: string): Promise<Transition[]> {
    const rows = await updateReturning<{
      id: string;
      title: string;
      state: TaskState;
      attempt: number;
      machine_id: string | null;
    }>(
      manager,
      `UPDATE ${T} SET "state" = 'failed', "lease_expires_at" = NULL, "waiting" = NULL, "updated_at" = now(),
         "result" = jsonb_build_object('outcome', 'failed', 'exitCode', NULL, 'durationMs', 0, 'outputTail', '', 'error', $2::text)
       WHERE "state" IN ('queued', 'assigned') AND "target_machine_id" = ANY($1::uuid[])
       RETURNING "id", "title", "state", "attempt", "machine_id"`,
      [machineIds, error],
    );
    if (rows.length) {
      await manager.query(
        `UPDATE ${A} AS a SET "state" = 'failed', "ended_at" = now() FROM unnest($1::uuid[], $2::int[]) AS x(id, attempt)
         WHERE a."task_id" = x.id AND a."attempt" = x.attempt AND a."ended_at" IS NULL`,
        [rows.map((r) => r.id), rows.map((r) => r.attempt)],
      );
    }
    return rows.map((r) => ({ id: r.id, title: r.title, state: r.state, attempt: r.attempt, machineId: r.machine_id }));
  }

  /**
   * Cancels: a task not yet started is cancelled at once; a running one is marked, its
   * agent stops the process and reports. Returns the row, or null if already final.
   */
  async cancel(manager: EntityManager, taskId: string): Promise<TaskRow | null> {
    const [row] = await updateReturning<TaskRow>(
      manager,
      `UPDATE ${T} SET "cancel_requested" = true, "updated_at" = now(),
         "state" = CASE WHEN "state" IN ('queued', 'assigned') THEN 'cancelled' ELSE "state" END,
         "result" = CASE WHEN "state" IN ('queued', 'assigned')
           THEN jsonb_build_object('outcome', 'cancelled', 'exitCode', NULL, 'durationMs', 0, 'outputTail', '', 'error', 'cancelled before it started')
           ELSE "result" END,
         "lease_expires_at" = CASE WHEN "state" IN ('queued', 'assigned') THEN NULL ELSE "lease_expires_at" END
       WHERE "id" = $1 AND "state" IN ('queued', 'assigned', 'running') RETURNING *`,
      [taskId],
    );
    if (row?.state === 'cancelled' && row.attempt > 0) {
      await manager.query(
        `UPDATE ${A} SET "state" = 'cancelled', "ended_at" = now() WHERE "task_id" = $1 AND "attempt" = $2 AND "ended_at" IS NULL`,
        [row.id, row.attempt],
      );
    }
    return row ?? null;
  }

  /** Queues a failed, cancelled or timed-out task again, with room for one more attempt. */
  async retry(manager: EntityManager, taskId: string): Promise<TaskRow | null> {
    const [row] = await updateReturning<TaskRow>(
      manager,
      `UPDATE ${T} SET "state" = 'queued', "cancel_requested" = false, "result" = NULL, "machine_id" = NULL, "machine_name" = NULL,
         "max_attempts" = GREATEST("max_attempts", "attempt" + 1), "not_before" = NULL, "updated_at" = now()
       WHERE "id" = $1 AND "state" IN ('failed', 'cancelled', 'timed_out') RETURNING *`,
      [taskId],
    );
    return row ?? null;
  }
}
