import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { SecretActor, SecretAuditAction, SecretAuditView, TimeCursor } from '@waggle/contracts';

/** A row's time to the microsecond, for a cursor (a JavaScript Date keeps only milliseconds). */
export const CURSOR_AT = (column: string) =>
  `to_char("${column}" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "cursor_at"`;

export interface AuditEntry {
  action: SecretAuditAction;
  secretId?: string | null;
  secretName?: string | null;
  scope?: string | null;
  actor: SecretActor;
  detail?: Record<string, unknown> | null;
}

interface AuditRow {
  id: string;
  at: Date;
  action: SecretAuditAction;
  secret_id: string | null;
  secret_name: string | null;
  scope: string | null;
  actor: SecretActor;
  detail: Record<string, unknown> | null;
  cursor_at: string;
}

/** The secrets' audit trail: who did what to which secret, when, from where. Never a value. */
@Injectable()
export class AuditRepository {
  constructor(private readonly db: DataSource) {}

  async record(entries: AuditEntry[]): Promise<void> {
    if (!entries.length) {
      return;
    }
    await this.db.query(
      `INSERT INTO "vault"."audit" ("id", "action", "secret_id", "secret_name", "scope", "actor", "detail")
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[])`,
      [
        entries.map(() => randomUUID()),
        entries.map((e) => e.action),
        entries.map((e) => e.secretId ?? null),
        entries.map((e) => e.secretName ?? null),
        entries.map((e) => e.scope ?? null),
        entries.map((e) => JSON.stringify(e.actor)),
        entries.map((e) => (e.detail ? JSON.stringify(e.detail) : null)),
      ],
    );
  }

  async list(
    filter: { secretId?: string; action?: SecretAuditAction },
    after: TimeCursor | undefined,
    limit: number,
  ): Promise<{ view: SecretAuditView; cursor: TimeCursor }[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.secretId) {
      params.push(filter.secretId);
      where.push(`"secret_id" = $${params.length}`);
    }
    if (filter.action) {
      params.push(filter.action);
      where.push(`"action" = $${params.length}`);
    }
    if (after) {
      params.push(after.at, after.id);
      where.push(`("at", "id") < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit);
    const rows = await this.db.query<AuditRow[]>(
      `SELECT *, ${CURSOR_AT('at')} FROM "vault"."audit" ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY "at" DESC, "id" DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      view: {
        id: r.id,
        at: r.at.toISOString(),
        action: r.action,
        secretId: r.secret_id,
        secretName: r.secret_name,
        scope: r.scope,
        actor: r.actor,
        detail: r.detail,
      },
      cursor: { at: r.cursor_at, id: r.id },
    }));
  }
}
