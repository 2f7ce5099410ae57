import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { ActivityRecord, ListActivityRequest } from '@waggle/contracts';
import { updateReturning } from '@waggle/persistence';

export interface ActivityRow {
  seq: string;
  id: string;
  at: Date;
  actor_kind: string;
  actor_name: string;
  actor_id: string | null;
  address: string;
  method: string;
  route: string;
  path: string;
  status: number;
  request_id: string;
}

const A = '"tracker"."activity"';
const COLUMNS = [
  'id',
  'at',
  'actor_kind',
  'actor_name',
  'actor_id',
  'address',
  'method',
  'route',
  'path',
  'status',
  'request_id',
];

@Injectable()
export class ActivityRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** One statement for a batch; a record delivered twice is kept once. */
  async insertMany(records: ActivityRecord[]): Promise<void> {
    if (!records.length) {
      return;
    }
    const values = records.map((_, r) => `(${COLUMNS.map((__, c) => `$${r * COLUMNS.length + c + 1}`).join(', ')})`);
    await this.dataSource.query(
      `INSERT INTO ${A} (${COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES ${values.join(', ')} ON CONFLICT ("id") DO NOTHING`,
      records.flatMap((a) => [
        a.id,
        a.at,
        a.actor.kind,
        a.actor.name,
        a.actor.id,
        a.address,
        a.method,
        a.route,
        a.path,
        a.status,
        a.requestId,
      ]),
    );
  }

  /** Newest first, before the cursor's sequence. */
  list(filter: ListActivityRequest & { beforeSeq?: string; limit: number }): Promise<ActivityRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(sql(params.length));
    };
    if (filter.actor) {
      add((n) => `"actor_name" = $${n}`, filter.actor);
    }
    if (filter.actorKind) {
      add((n) => `"actor_kind" = $${n}`, filter.actorKind);
    }
    if (filter.method) {
      add((n) => `"method" = $${n}`, filter.method);
    }
    if (filter.path) {
      add((n) => `starts_with("path", $${n})`, filter.path);
    }
    if (filter.outcome === 'ok') {
      where.push('"status" < 400');
    }
    if (filter.outcome === 'failed') {
      where.push('"status" >= 400');
    }
    if (filter.since) {
      add((n) => `"at" >= $${n}::timestamptz`, filter.since);
    }
    if (filter.until) {
      add((n) => `"at" < $${n}::timestamptz`, filter.until);
    }
    if (filter.beforeSeq) {
      add((n) => `"seq" < $${n}::bigint`, filter.beforeSeq);
    }
    params.push(filter.limit + 1);
    return this.dataSource.query<ActivityRow[]>(
      `SELECT * FROM ${A} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY "seq" DESC LIMIT $${params.length}`,
      params,
    );
  }

  /** Deletes what is older than `days`, a batch at a time; how many went. */
  async prune(days: number, batch = 10_000): Promise<number> {
    const rows = await updateReturning<{ seq: string }>(
      this.dataSource,
      `DELETE FROM ${A} WHERE "seq" IN (SELECT "seq" FROM ${A} WHERE "at" < now() - ($1::int * interval '1 day') LIMIT $2)
       RETURNING "seq"`,
      [days, batch],
    );
    return rows.length;
  }
}
