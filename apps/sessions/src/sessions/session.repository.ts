import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type {
  AttentionItemView,
  ListSessionsRequest,
  Page,
  SessionCli,
  SessionReport,
  SessionState,
  SessionView,
  WindowView,
} from '@waggle/contracts';
import { ATTENTION_STATES, decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor } from '@waggle/contracts';
import { updateReturning } from '@waggle/persistence';

export interface SessionRow {
  machine_id: string;
  name: string;
  machine_name: string;
  cli: SessionCli;
  state: SessionState;
  state_since: Date;
  state_source: 'hook' | 'screen';
  turn: number;
  activity_at: Date;
  command: string[];
  cwd: string;
  labels: string[];
  windows: WindowView[];
  excerpt: string | null;
  exit_status: number | null;
  attention_dismissed_at: Date | null;
  updated_at: Date;
}

/** What changed in a machine's sessions with one report. */
export interface ReportChanges {
  /** Sessions that are new or whose state changed: the row now, and the state before (null when new). */
  changed: { row: SessionRow; previous: SessionState | null }[];
  /** Names no longer reported. */
  removed: string[];
}

interface Cursor {
  machine: string;
  name: string;
}
const isCursor = (v: unknown): v is Cursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Cursor).machine === 'string' &&
  typeof (v as Cursor).name === 'string';

export function toSessionView(row: SessionRow): SessionView {
  return {
    machineId: row.machine_id,
    machine: row.machine_name,
    name: row.name,
    cli: row.cli,
    state: row.state,
    stateSince: row.state_since.toISOString(),
    stateSource: row.state_source,
    turn: row.turn,
    activityAt: row.activity_at.toISOString(),
    command: row.command,
    cwd: row.cwd,
    labels: row.labels,
    windows: row.windows,
    excerpt: row.excerpt,
    exitStatus: row.exit_status,
    updatedAt: row.updated_at.toISOString(),
  };
}

const T = '"sessions"."sessions"';

/** Sessions as their machines last reported them: the only code that touches the sessions table. */
@Injectable()
export class SessionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * A machine's report is the whole truth about its sessions: upserted in one statement,
   * what it no longer lists deleted in another. A changed state clears a dismissal, so a
   * session that needs input again is back in the attention inbox.
   */
  async applyReport(
    manager: EntityManager,
    machineId: string,
    machineName: string,
    reports: SessionReport[],
    /** false: these sessions only (a create or resize answered), the others stay. */
    complete = true,
  ): Promise<ReportChanges> {
    const before = await manager.query<{ name: string; state: SessionState; state_since: Date }[]>(
      `SELECT "name", "state", "state_since" FROM ${T} WHERE "machine_id" = $1 FOR UPDATE`,
      [machineId],
    );
    const known = new Map(before.map((r) => [r.name, r]));
    const rows = reports.length
      ? await manager.query<SessionRow[]>(
          `INSERT INTO ${T} AS s ("machine_id", "name", "machine_name", "cli", "state", "state_since", "state_source",
             "turn", "activity_at", "command", "cwd", "labels", "windows", "excerpt", "exit_status", "updated_at")
           SELECT $1, r."name", $2, r."cli", r."state", r."stateSince", r."stateSource", r."turn", r."activityAt",
             r."command", r."cwd", ARRAY(SELECT jsonb_array_elements_text(r."labels")), r."windows", r."excerpt",
             r."exitStatus", now()
           FROM jsonb_to_recordset($3::jsonb) AS r("name" text, "cli" text, "state" text, "stateSince" timestamptz,
             "stateSource" text, "turn" integer, "activityAt" timestamptz, "command" jsonb, "cwd" text, "labels" jsonb,
             "windows" jsonb, "excerpt" text, "exitStatus" integer)
           ON CONFLICT ("machine_id", "name") DO UPDATE SET
             "machine_name" = EXCLUDED."machine_name", "cli" = EXCLUDED."cli", "state" = EXCLUDED."state",
             "state_since" = EXCLUDED."state_since", "state_source" = EXCLUDED."state_source", "turn" = EXCLUDED."turn",
             "activity_at" = EXCLUDED."activity_at", "command" = EXCLUDED."command", "cwd" = EXCLUDED."cwd",
             "labels" = EXCLUDED."labels", "windows" = EXCLUDED."windows", "excerpt" = EXCLUDED."excerpt",
             "exit_status" = EXCLUDED."exit_status", "updated_at" = now(),
             "attention_dismissed_at" = CASE WHEN s."state" = EXCLUDED."state" AND s."state_since" = EXCLUDED."state_since"
               THEN s."attention_dismissed_at" END
           RETURNING *`,
          [machineId, machineName, JSON.stringify(reports)],
        )
      : [];
    const removed = complete
      ? await updateReturning<{ name: string }>(
          manager,
          `DELETE FROM ${T} WHERE "machine_id" = $1 AND NOT ("name" = ANY($2::text[])) RETURNING "name"`,
          [machineId, reports.map((r) => r.name)],
        )
      : [];
    const changed: ReportChanges['changed'] = [];
    for (const row of rows) {
      const old = known.get(row.name);
      if (!old || old.state !== row.state || old.state_since.getTime() !== row.state_since.getTime()) {
        changed.push({ row, previous: old?.state ?? null });
      }
    }
    return { changed, removed: removed.map((r) => r.name) };
  }

  async find(machineId: string, name: string, manager: EntityManager = this.dataSource.manager) {
    const [row] = await manager.query<SessionRow[]>(`SELECT * FROM ${T} WHERE "machine_id" = $1 AND "name" = $2`, [
      machineId,
      name,
    ]);
    return row;
  }

  async remove(manager: EntityManager, machineId: string, name: string): Promise<boolean> {
    const rows = await updateReturning<{ name: string }>(
      manager,
      `DELETE FROM ${T} WHERE "machine_id" = $1 AND "name" = $2 RETURNING "name"`,
      [machineId, name],
    );
    return rows.length > 0;
  }

  /** By machine name, then session name. */
  async list(req: ListSessionsRequest, machineId?: string): Promise<Page<SessionView>> {
    const limit = req.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(req.cursor, isCursor);
    const params: unknown[] = [limit + 1];
    const where: string[] = [];
    if (machineId) {
      params.push(machineId);
      where.push(`"machine_id" = $${params.length}`);
    }
    if (req.state) {
      params.push(req.state);
      where.push(`"state" = $${params.length}`);
    }
    if (after) {
      params.push(after.machine, after.name);
      where.push(`("machine_name", "name") > ($${params.length - 1}, $${params.length})`);
    }
    const rows = await this.dataSource.query<SessionRow[]>(
      `SELECT * FROM ${T} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY "machine_name", "name" LIMIT $1`,
      params,
    );
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toSessionView),
      nextCursor: more && last ? encodeCursor({ machine: last.machine_name, name: last.name }) : undefined,
    };
  }

  /** Sessions that need input or finished and were not dismissed since: oldest first (waiting longest). */
  async listAttention(limit = DEFAULT_PAGE_SIZE, cursor?: string): Promise<Page<AttentionItemView>> {
    const after = decodeCursor(cursor, isCursor);
    const params: unknown[] = [limit + 1, ATTENTION_STATES];
    let where = `"state" = ANY($2::text[]) AND "attention_dismissed_at" IS NULL`;
    if (after) {
      params.push(after.machine, after.name);
      where += ` AND ("machine_name", "name") > ($3, $4)`;
    }
    const rows = await this.dataSource.query<SessionRow[]>(
      `SELECT * FROM ${T} WHERE ${where} ORDER BY "machine_name", "name" LIMIT $1`,
      params,
    );
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => ({
        machineId: r.machine_id,
        machine: r.machine_name,
        session: r.name,
        state: r.state,
        since: r.state_since.toISOString(),
        cli: r.cli,
        excerpt: r.excerpt,
      })),
      nextCursor: more && last ? encodeCursor({ machine: last.machine_name, name: last.name }) : undefined,
    };
  }

  async dismiss(machineId: string, name: string): Promise<boolean> {
    const rows = await updateReturning<{ name: string }>(
      this.dataSource,
      `UPDATE ${T} SET "attention_dismissed_at" = now() WHERE "machine_id" = $1 AND "name" = $2 RETURNING "name"`,
      [machineId, name],
    );
    return rows.length > 0;
  }

  /** Sessions the assigner may type into: at their prompt, with no assignment in flight, oldest idle first. */
  async findAvailable(manager: EntityManager): Promise<SessionRow[]> {
    return manager.query<SessionRow[]>(
      `SELECT s.* FROM ${T} s
       WHERE s."state" IN ('idle', 'finished')
         AND NOT EXISTS (SELECT 1 FROM "sessions"."assignments" a
           WHERE a."machine_id" = s."machine_id" AND a."session" = s."name" AND a."state" IN ('assigned', 'in_progress'))
       ORDER BY s."state_since"`,
    );
  }
}
