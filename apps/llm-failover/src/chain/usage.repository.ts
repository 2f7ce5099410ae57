import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type { FailoverView, Page, UsageTotals } from '@waggle/contracts';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, isTimeCursor } from '@waggle/contracts';
import { singleRow } from '@waggle/persistence';

const R = '"llm"."requests"';
const F = '"llm"."failovers"';

export interface RequestRecord {
  id: string;
  api: string;
  requestedModel: string;
  machineId: string | null;
  caller: string;
  taskId: string | null;
  stream: boolean;
}

export interface RequestOutcome {
  status: 'ok' | 'error' | 'refused';
  httpStatus: number;
  provider: string | null;
  providerModel: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  firstTokenMs: number | null;
  failovers: number;
  error: string | null;
}

export interface FailoverRecord {
  id: string;
  requestId: string;
  from: string;
  to: string | null;
  reason: string;
  machineId: string | null;
  taskId: string | null;
}

interface TotalsRow {
  requests: string;
  input_tokens: string | null;
  output_tokens: string | null;
  cost_usd: string | null;
}

const totals = (r: TotalsRow): UsageTotals => ({
  requests: Number(r.requests),
  inputTokens: Number(r.input_tokens ?? 0),
  outputTokens: Number(r.output_tokens ?? 0),
  costUsd: Number(r.cost_usd ?? 0),
});
const SUMS = `count(*) AS requests, sum("input_tokens") AS input_tokens, sum("output_tokens") AS output_tokens, sum("cost_usd") AS cost_usd`;

/** Every LLM call (tokens, cost, latency, who) and every failover: the ledger behind costs and budgets. */
@Injectable()
export class UsageRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** A request that holds its estimated cost against the budgets until it finishes. */
  async reserve(manager: EntityManager, record: RequestRecord, estimateUsd: number): Promise<void> {
    await manager.query(
      `INSERT INTO ${R} ("id", "api", "requested_model", "machine_id", "caller", "task_id", "stream", "status", "cost_usd") VALUES ($1, $2, $3, $4, $5, $6, $7, 'reserved', $8)`,
      [
        record.id,
        record.api,
        record.requestedModel,
        record.machineId,
        record.caller,
        record.taskId,
        record.stream,
        estimateUsd,
      ],
    );
  }

  /** Records the outcome: updates a reservation, or inserts the row. */
  async finish(
    record: RequestRecord,
    outcome: RequestOutcome,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO ${R} ("id", "api", "requested_model", "machine_id", "caller", "task_id", "stream", "status", "http_status", "provider", "provider_model",
         "input_tokens", "output_tokens", "cost_usd", "latency_ms", "first_token_ms", "failovers", "error")
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
       ON CONFLICT ("id") DO UPDATE SET "status" = EXCLUDED."status", "http_status" = EXCLUDED."http_status", "provider" = EXCLUDED."provider",
         "provider_model" = EXCLUDED."provider_model", "input_tokens" = EXCLUDED."input_tokens", "output_tokens" = EXCLUDED."output_tokens",
         "cost_usd" = EXCLUDED."cost_usd", "latency_ms" = EXCLUDED."latency_ms", "first_token_ms" = EXCLUDED."first_token_ms",
         "failovers" = EXCLUDED."failovers", "error" = EXCLUDED."error"`,
      [
        record.id,
        record.api,
        record.requestedModel,
        record.machineId,
        record.caller,
        record.taskId,
        record.stream,
        outcome.status,
        outcome.httpStatus,
        outcome.provider,
        outcome.providerModel,
        outcome.inputTokens,
        outcome.outputTokens,
        outcome.costUsd,
        outcome.latencyMs,
        outcome.firstTokenMs,
        outcome.failovers,
        outcome.error,
      ],
    );
  }

  /** Spent (and reserved) today overall and by this machine, and by this task ever. */
  async spent(
    manager: EntityManager,
    machineId: string | null,
    taskId: string | null,
  ): Promise<{ day: number; machineDay: number; task: number }> {
    const rows = await manager.query<{ day: string | null; machine_day: string | null; task: string | null }[]>(
      `SELECT
         (SELECT sum("cost_usd") FROM ${R} WHERE "day" = (now() AT TIME ZONE 'UTC')::date) AS day,
         (SELECT sum("cost_usd") FROM ${R} WHERE "day" = (now() AT TIME ZONE 'UTC')::date AND "machine_id" = $1) AS machine_day,
         (SELECT sum("cost_usd") FROM ${R} WHERE "task_id" = $2) AS task`,
      [machineId, taskId],
    );
    const row = singleRow(rows, 'spent');
    return { day: Number(row.day ?? 0), machineDay: Number(row.machine_day ?? 0), task: Number(row.task ?? 0) };
  }

  async addFailovers(manager: EntityManager, failovers: FailoverRecord[]): Promise<void> {
    if (!failovers.length) {
      return;
    }
    await manager.query(
      `INSERT INTO ${F} ("id", "request_id", "from_provider", "to_provider", "reason", "machine_id", "task_id")
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, "requestId" uuid, "from" text, "to" text, reason text, "machineId" uuid, "taskId" uuid)`,
      [JSON.stringify(failovers)],
    );
  }

  async failovers(limit = DEFAULT_PAGE_SIZE, cursor?: string): Promise<Page<FailoverView>> {
    const after = decodeCursor(cursor, isTimeCursor);
    const rows = await this.dataSource.query<
      {
        id: string;
        at: Date;
        request_id: string;
        from_provider: string;
        to_provider: string | null;
        reason: string;
        machine_id: string | null;
        task_id: string | null;
      }[]
    >(
      `SELECT * FROM ${F} WHERE $2::timestamptz IS NULL OR ("at", "id") < ($2::timestamptz, $3::uuid) ORDER BY "at" DESC, "id" DESC LIMIT $1`,
      [limit + 1, after?.at ?? null, after?.id ?? null],
    );
    const items = rows.slice(0, limit).map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      requestId: r.request_id,
      from: r.from_provider,
      to: r.to_provider,
      reason: r.reason,
      machineId: r.machine_id,
      taskId: r.task_id,
    }));
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor({ at: last.at, id: last.id }) : undefined };
  }

  /** Failed attempts per provider over the last 24 hours (a failover leaves the provider that failed). */
  async failoverCounts(): Promise<Map<string, number>> {
    const rows = await this.dataSource.query<{ provider: string; n: string }[]>(
      `SELECT "from_provider" AS provider, count(*) AS n FROM ${F} WHERE "at" > now() - interval '24 hours' AND "reason" <> 'circuit open' GROUP BY 1`,
    );
    return new Map(rows.map((r) => [r.provider, Number(r.n)]));
  }

  /** One UTC day's totals, by provider, machine and task (the 100 costliest tasks). */
  async summary(day: string) {
    const where = `WHERE "day" = $1::date AND "status" <> 'reserved'`;
    const total = singleRow(
      await this.dataSource.query<TotalsRow[]>(`SELECT ${SUMS} FROM ${R} ${where}`, [day]),
      'usage summary',
    );
    const byProvider = await this.dataSource.query<(TotalsRow & { provider: string | null })[]>(
      `SELECT "provider", ${SUMS} FROM ${R} ${where} GROUP BY "provider" ORDER BY "provider"`,
      [day],
    );
    const byMachine = await this.dataSource.query<(TotalsRow & { machine_id: string | null; caller: string })[]>(
      `SELECT "machine_id", min("caller") AS caller, ${SUMS} FROM ${R} ${where} GROUP BY "machine_id" ORDER BY sum("cost_usd") DESC`,
      [day],
    );
    const byTask = await this.dataSource.query<(TotalsRow & { task_id: string })[]>(
      `SELECT "task_id", ${SUMS} FROM ${R} ${where} AND "task_id" IS NOT NULL GROUP BY "task_id" ORDER BY sum("cost_usd") DESC LIMIT 100`,
      [day],
    );
    return {
      total: totals(total),
      byProvider: byProvider.map((r) => ({ provider: r.provider ?? '(none)', ...totals(r) })),
      byMachine: byMachine.map((r) => ({ machineId: r.machine_id, name: r.caller, ...totals(r) })),
      byTask: byTask.map((r) => ({ taskId: r.task_id, ...totals(r) })),
    };
  }

  /** Per provider over the last 24 hours: requests, success rate, latency percentiles, tokens, cost. */
  async providerStats() {
    const rows = await this.dataSource.query<
      (TotalsRow & { provider: string; ok: string; p50: number | null; p95: number | null })[]
    >(
      `SELECT "provider", ${SUMS}, count(*) FILTER (WHERE "status" = 'ok') AS ok,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY "latency_ms") AS p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY "latency_ms") AS p95
       FROM ${R} WHERE "at" > now() - interval '24 hours' AND "provider" IS NOT NULL AND "status" <> 'reserved' GROUP BY "provider"`,
    );
    return new Map(rows.map((r) => [r.provider, { ...totals(r), ok: Number(r.ok), p50: r.p50, p95: r.p95 }]));
  }
}
