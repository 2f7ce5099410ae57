import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type { ErrorGroupSort } from '@waggle/contracts';
import type { Queryable } from '@waggle/persistence';
import { updateReturning } from '@waggle/persistence';

import { likePattern } from '../common/paging';
import type { NormalisedEvent } from './normalise';

export interface IngestKeyRow {
  id: string;
  project_id: string;
  project_number: string;
  name: string;
  prefix: string;
  rate_per_minute: number;
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
  /** created_at in microseconds (the list's cursor). */
  created_us: string;
}

export interface ErrorGroupRow {
  id: string;
  project_id: string;
  project_key: string;
  fingerprint: string;
  title: string;
  culprit: string;
  type: string;
  level: string;
  status: string;
  count: string;
  first_seen: Date;
  last_seen: Date;
  machines: string[];
  releases: string[];
  ignore_until: Date | null;
  ignore_until_count: string | null;
  bug_id: string | null;
  bug_number: string | null;
  bug_status: string | null;
  bug_task_id: string | null;
  bug_pull_request: { url: string } | null;
}

export interface ErrorEventRow {
  seq: string;
  id: string;
  group_id: string;
  received_at: Date;
  occurred_at: Date;
  level: string;
  machine: string | null;
  release: string | null;
  environment: string | null;
  message: string;
  exceptions: NormalisedEvent['exceptions'];
  tags: Record<string, string>;
  context: Record<string, unknown>;
}

/** What a batch did to one group. */
export interface TouchedGroup {
  id: string;
  projectId: string;
  title: string;
  status: string;
  count: number;
  added: number;
  newGroup: boolean;
  regressed: boolean;
}


const K = '"tracker"."ingest_keys"';
const G = '"tracker"."error_groups"';
const F = '"tracker"."error_fingerprints"';
const E = '"tracker"."error_events"';
const LIST_CAP = 200;

const GROUP_SELECT = `SELECT g.*, p."key" AS "project_key", i."number" AS "bug_number", i."status" AS "bug_status",
  i."task_id" AS "bug_task_id", i."pull_request" AS "bug_pull_request"
  FROM ${G} g JOIN "tracker"."projects" p ON p."id" = g."project_id" LEFT JOIN "tracker"."items" i ON i."id" = g."bug_id"`;

const SORT_COLUMN: Record<ErrorGroupSort, string> = {
  last_seen: 'g."last_seen"',
  first_seen: 'g."first_seen"',
  count: 'g."count"',
};


@Injectable()
export class ErrorRepository {
  constructor(private readonly dataSource: DataSource) {}

  // ---- ingest keys ----

  async insertKey(row: {
    id: string;
    project_id: string;
    name: string;
    key_hash: string;
    prefix: string;
    rate_per_minute: number;
    created_by: string;
  }): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO ${K} ("id", "project_id", "name", "key_hash", "prefix", "rate_per_minute", "created_by")
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [row.id, row.project_id, row.name, row.key_hash, row.prefix, row.rate_per_minute, row.created_by],
    );
  }

  private readonly keySelect = `SELECT k."id", k."project_id", p."number" AS "project_number", k."name", k."prefix",
    k."rate_per_minute", k."created_by", k."created_at", k."revoked_at",
    (extract(epoch FROM k."created_at") * 1000000)::bigint::text AS "created_us"
    FROM ${K} k JOIN "tracker"."projects" p ON p."id" = k."project_id"`;

  async findKeyByHash(hash: string): Promise<IngestKeyRow | undefined> {
    const [row] = await this.dataSource.query<IngestKeyRow[]>(`${this.keySelect} WHERE k."key_hash" = $1`, [hash]);
    return row;
  }

  async findKey(id: string): Promise<IngestKeyRow | undefined> {
    const [row] = await this.dataSource.query<IngestKeyRow[]>(`${this.keySelect} WHERE k."id" = $1`, [id]);
    return row;
  }

  listKeys(projectId: string, afterCreated: string | undefined, limit: number): Promise<IngestKeyRow[]> {
    return this.dataSource.query<IngestKeyRow[]>(
      `${this.keySelect} WHERE k."project_id" = $1
         AND ($2::bigint IS NULL OR (extract(epoch FROM k."created_at") * 1000000)::bigint > $2::bigint)
       ORDER BY k."created_at" LIMIT $3`,
      [projectId, afterCreated ?? null, limit + 1],
    );
  }

  async revokeKey(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE ${K} SET "revoked_at" = now() WHERE "id" = $1 AND "revoked_at" IS NULL`, [id]);
  }

  // ---- ingest ----

  /**
   * Stores a batch in the caller's transaction: finds or makes each fingerprint's group,
   * inserts the events `keep` says to keep (the spike limit is the caller's), then updates
   * the groups' counts, machines, releases and status in one statement (a resolved group seen
   * again regresses; an ignored one whose time or count ran out is unresolved again). That
   * statement is the last before the commit, so a group's row is locked only briefly and
   * batches written side by side seldom wait on each other. A few statements per batch,
   * whatever its size.
   */
  async storeBatch(
    manager: EntityManager,
    events: { projectId: string; event: NormalisedEvent }[],
    keepEvent: (groupId: string) => boolean,
    now: Date,
  ): Promise<TouchedGroup[]> {
    const byFingerprint = new Map<string, { projectId: string; fingerprint: string; first: NormalisedEvent }>();
    for (const { projectId, event } of events) {
      const k = `${projectId} ${event.fingerprint}`;
      if (!byFingerprint.has(k)) {
        byFingerprint.set(k, { projectId, fingerprint: event.fingerprint, first: event });
      }
    }
    const fps = [...byFingerprint.values()];
    const mapping = await this.groupsOf(manager, fps);
    const missing = fps.filter((f) => !mapping.has(`${f.projectId} ${f.fingerprint}`));
    const created = new Set<string>();
    if (missing.length) {
      const ids = missing.map(() => crypto.randomUUID());
      const inserted = await manager.query<{ id: string }[]>(
        `INSERT INTO ${G} ("id", "project_id", "fingerprint", "title", "culprit", "type", "level", "first_seen", "last_seen")
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
           $8::timestamptz[], $8::timestamptz[])
         ON CONFLICT ("project_id", "fingerprint") DO NOTHING RETURNING "id"`,
        [
          ids,
          missing.map((m) => m.projectId),
          missing.map((m) => m.fingerprint),
          missing.map((m) => m.first.title),
          missing.map((m) => m.first.culprit),
          missing.map((m) => m.first.type),
          missing.map((m) => m.first.level),
          missing.map(() => now),
        ],
      );
      inserted.forEach((r) => created.add(r.id));
      await manager.query(
        `INSERT INTO ${F} ("project_id", "fingerprint", "group_id")
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[]) ON CONFLICT DO NOTHING`,
        [missing.map((m) => m.projectId), missing.map((m) => m.fingerprint), ids],
      );
      for (const [k, v] of await this.groupsOf(manager, missing)) {
        mapping.set(k, v);
      }
    }

    const perGroup = new Map<
      string,
      { n: number; machines: Set<string>; releases: Set<string>; first: Date; last: Date }
    >();
    const kept: { groupId: string; event: NormalisedEvent }[] = [];
    for (const { projectId, event } of events) {
      const groupId = mapping.get(`${projectId} ${event.fingerprint}`);
      if (!groupId) {
        continue; // its group was merged away or deleted in the meantime
      }
      let g = perGroup.get(groupId);
      if (!g) {
        g = { n: 0, machines: new Set(), releases: new Set(), first: event.occurredAt, last: event.occurredAt };
        perGroup.set(groupId, g);
      }
      g.n += 1;
      if (event.machine) {g.machines.add(event.machine);}
      if (event.release) {g.releases.add(event.release);}
      g.first = event.occurredAt < g.first ? event.occurredAt : g.first;
      g.last = event.occurredAt > g.last ? event.occurredAt : g.last;
      if (keepEvent(groupId)) {
        kept.push({ groupId, event });
      }
    }
    if (kept.length) {
      await manager.query(
        `INSERT INTO ${E} ("id", "group_id", "received_at", "occurred_at", "level", "machine", "release", "environment",
           "message", "exceptions", "tags", "context")
         SELECT * FROM unnest($1::text[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[],
           $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::jsonb[], $12::jsonb[])`,
        [
          kept.map((k) => k.event.id),
          kept.map((k) => k.groupId),
          kept.map(() => now),
          kept.map((k) => k.event.occurredAt),
          kept.map((k) => k.event.level),
          kept.map((k) => k.event.machine),
          kept.map((k) => k.event.release),
          kept.map((k) => k.event.environment),
          kept.map((k) => k.event.message),
          kept.map((k) => JSON.stringify(k.event.exceptions)),
          kept.map((k) => JSON.stringify(k.event.tags)),
          kept.map((k) => JSON.stringify(k.event.context)),
        ],
      );
    }
    const groups = [...perGroup.entries()];
    if (!groups.length) {
      return [];
    }
    // The new status: a resolved group regresses; an ignored one runs out by time or count.
    const status = `CASE WHEN o."status" = 'resolved' THEN 'regressed'
      WHEN o."status" = 'ignored' AND ((o."ignore_until" IS NOT NULL AND o."ignore_until" <= $7)
        OR (o."ignore_until_count" IS NOT NULL AND o."count" + u.n >= o."ignore_until_count")) THEN 'unresolved'
      ELSE o."status" END`;
    const rows = await updateReturning<{
      id: string;
      project_id: string;
      title: string;
      status: string;
      count: string;
      old_status: string;
    }>(
      manager,
      `WITH o AS (SELECT * FROM ${G} WHERE "id" = ANY($1::uuid[]) ORDER BY "id" FOR NO KEY UPDATE)
       UPDATE ${G} g SET "count" = o."count" + u.n,
         "first_seen" = least(o."first_seen", u.first), "last_seen" = greatest(o."last_seen", u.last),
         "machines" = ARRAY(SELECT DISTINCT x FROM unnest(o."machines" || ARRAY(SELECT jsonb_array_elements_text(u.machines))) x LIMIT ${LIST_CAP}),
         "releases" = ARRAY(SELECT DISTINCT x FROM unnest(o."releases" || ARRAY(SELECT jsonb_array_elements_text(u.releases))) x LIMIT ${LIST_CAP}),
         "status" = ${status},
         "ignore_until" = CASE WHEN ${status} = 'ignored' THEN o."ignore_until" END,
         "ignore_until_count" = CASE WHEN ${status} = 'ignored' THEN o."ignore_until_count" END
       FROM o JOIN unnest($1::uuid[], $2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::jsonb[], $6::jsonb[])
         AS u(id, n, first, last, machines, releases) ON u.id = o."id"
       WHERE g."id" = o."id"
       RETURNING g."id", g."project_id", g."title", g."status", g."count", o."status" AS "old_status"`,
      [
        groups.map(([id]) => id),
        groups.map(([, g]) => g.n),
        groups.map(([, g]) => g.first),
        groups.map(([, g]) => g.last),
        groups.map(([, g]) => JSON.stringify([...g.machines].slice(0, LIST_CAP))),
        groups.map(([, g]) => JSON.stringify([...g.releases].slice(0, LIST_CAP))),
        now,
      ],
    );
    return rows.map((r) => ({
      id: r.id,
      projectId: r.project_id,
      title: r.title,
      status: r.status,
      count: Number(r.count),
      added: perGroup.get(r.id)?.n ?? 0,
      newGroup: created.has(r.id),
      regressed: r.status === 'regressed' && r.old_status === 'resolved',
    }));
  }

  private async groupsOf(
    manager: EntityManager,
    fps: { projectId: string; fingerprint: string }[],
  ): Promise<Map<string, string>> {
    const rows = await manager.query<{ project_id: string; fingerprint: string; group_id: string }[]>(
      `SELECT f."project_id", f."fingerprint", f."group_id" FROM ${F} f
       JOIN unnest($1::uuid[], $2::text[]) AS w(project_id, fingerprint)
         ON f."project_id" = w.project_id AND f."fingerprint" = w.fingerprint`,
      [fps.map((f) => f.projectId), fps.map((f) => f.fingerprint)],
    );
    return new Map(rows.map((r) => [`${r.project_id} ${r.fingerprint}`, r.group_id]));
  }

  /** Keeps each group's latest `keep` events. */
  async trim(groupIds: string[], keep: number, db: Queryable = this.dataSource): Promise<void> {
    await db.query(
      `DELETE FROM ${E} e USING (
         SELECT x."seq" FROM unnest($1::uuid[]) AS t(id)
         CROSS JOIN LATERAL (SELECT "seq" FROM ${E} WHERE "group_id" = t.id ORDER BY "seq" DESC OFFSET $2) x
       ) d WHERE e."seq" = d."seq"`,
      [groupIds, keep],
    );
  }

  /** Deletes events older than `days`, a batch at a time; how many went. */
  async pruneEvents(days: number, batch: number): Promise<number> {
    const rows = await updateReturning<{ seq: string }>(
      this.dataSource,
      `DELETE FROM ${E} WHERE "seq" IN (SELECT "seq" FROM ${E} WHERE "received_at" < now() - ($1::int * interval '1 day') LIMIT $2)
       RETURNING "seq"`,
      [days, batch],
    );
    return rows.length;
  }

  // ---- reads and changes ----

  async findGroup(id: string, db: Queryable = this.dataSource): Promise<ErrorGroupRow | undefined> {
    const [row] = await db.query<ErrorGroupRow[]>(`${GROUP_SELECT} WHERE g."id" = $1`, [id]);
    return row;
  }

  async lockGroups(manager: EntityManager, ids: string[]): Promise<{ id: string; project_id: string }[]> {
    return manager.query(`SELECT "id", "project_id" FROM ${G} WHERE "id" = ANY($1::uuid[]) ORDER BY "id" FOR UPDATE`, [
      ids,
    ]);
  }

  listGroups(filter: {
    projectId?: string;
    status?: string;
    machine?: string;
    release?: string;
    q?: string;
    sort: ErrorGroupSort;
    after?: [string, string];
    limit: number;
  }): Promise<ErrorGroupRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(sql(params.length));
    };
    if (filter.projectId) {add((n) => `g."project_id" = $${n}`, filter.projectId);}
    if (filter.status) {add((n) => `g."status" = $${n}`, filter.status);}
    if (filter.machine) {add((n) => `g."machines" @> ARRAY[$${n}::text]`, filter.machine);}
    if (filter.release) {add((n) => `g."releases" @> ARRAY[$${n}::text]`, filter.release);}
    if (filter.q) {add((n) => `(g."title" ILIKE $${n} OR g."culprit" ILIKE $${n})`, likePattern(filter.q));}
    const column = SORT_COLUMN[filter.sort];
    if (filter.after) {
      const cast = filter.sort === 'count' ? 'bigint' : 'timestamptz';
      params.push(filter.after[0], filter.after[1]);
      where.push(`(${column}, g."id") < ($${params.length - 1}::${cast}, $${params.length}::uuid)`);
    }
    params.push(filter.limit + 1);
    return this.dataSource.query<ErrorGroupRow[]>(
      `${GROUP_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY ${column} DESC, g."id" DESC LIMIT $${params.length}`,
      params,
    );
  }

  listEvents(groupId: string, beforeSeq: string | undefined, limit: number): Promise<ErrorEventRow[]> {
    return this.dataSource.query<ErrorEventRow[]>(
      `SELECT * FROM ${E} WHERE "group_id" = $1 AND ($2::bigint IS NULL OR "seq" < $2::bigint)
       ORDER BY "seq" DESC LIMIT $3`,
      [groupId, beforeSeq ?? null, limit + 1],
    );
  }

  async setStatus(
    id: string,
    status: string,
    ignoreUntil: string | null,
    ignoreUntilCount: number | null,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${G} SET "status" = $2, "ignore_until" = $3, "ignore_until_count" = $4,
         "resolved_at" = CASE WHEN $2 = 'resolved' THEN now() END WHERE "id" = $1`,
      [id, status, ignoreUntil, ignoreUntilCount],
    );
  }

  /**
   * Folds `sources` into `target`: their fingerprints now lead to the target (so future
   * events land there), their events move, their counts, machines and releases add up, and
   * the source groups are deleted.
   */
  async merge(manager: EntityManager, target: string, sources: string[], keep: number): Promise<void> {
    await manager.query(`UPDATE ${F} SET "group_id" = $1 WHERE "group_id" = ANY($2::uuid[])`, [target, sources]);
    await manager.query(`UPDATE ${E} SET "group_id" = $1 WHERE "group_id" = ANY($2::uuid[])`, [target, sources]);
    await manager.query(
      `UPDATE ${G} t SET "count" = t."count" + s.count, "first_seen" = least(t."first_seen", s.first),
         "last_seen" = greatest(t."last_seen", s.last),
         "machines" = ARRAY(SELECT DISTINCT x FROM (SELECT unnest(t."machines") x
           UNION SELECT unnest("machines") FROM ${G} WHERE "id" = ANY($2::uuid[])) m LIMIT ${LIST_CAP}),
         "releases" = ARRAY(SELECT DISTINCT x FROM (SELECT unnest(t."releases") x
           UNION SELECT unnest("releases") FROM ${G} WHERE "id" = ANY($2::uuid[])) r LIMIT ${LIST_CAP}),
         "bug_id" = coalesce(t."bug_id", s.bug_id)
       FROM (SELECT sum("count") AS count, min("first_seen") AS first, max("last_seen") AS last,
               (array_agg("bug_id") FILTER (WHERE "bug_id" IS NOT NULL))[1] AS bug_id
             FROM ${G} WHERE "id" = ANY($2::uuid[])) s
       WHERE t."id" = $1`,
      [target, sources],
    );
    await manager.query(`DELETE FROM ${G} WHERE "id" = ANY($1::uuid[])`, [sources]);
    await this.trim([target], keep, manager);
  }

  /** Links the group to its bug unless it already has one; the bug it has now. */
  async linkBug(id: string, bugId: string): Promise<string | null> {
    await this.dataSource.query(`UPDATE ${G} SET "bug_id" = $2 WHERE "id" = $1 AND "bug_id" IS NULL`, [id, bugId]);
    const [row] = await this.dataSource.query<{ bug_id: string | null }[]>(`SELECT "bug_id" FROM ${G} WHERE "id" = $1`, [
      id,
    ]);
    return row?.bug_id ?? null;
  }
}
