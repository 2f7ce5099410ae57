import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { AgentCliName, Priority, Sender, Severity, WorkItemKind, WorkItemStatus } from '@waggle/contracts';
import type { Queryable } from '@waggle/persistence';
import { singleRow, updateReturning } from '@waggle/persistence';

import { likePattern } from '../common/paging';

export interface ItemRow {
  id: string;
  number: string;
  project_id: string;
  kind: WorkItemKind;
  title: string;
  body: string;
  status: WorkItemStatus;
  priority: Priority;
  severity: Severity | null;
  steps: string | null;
  environment: string | null;
  milestone_id: string | null;
  task_id: string | null;
  /** The task's state as last heard (`creating` while the assign makes it). */
  task_state: string | null;
  /** Where the item was when the agent took it: it goes back there if the task fails. */
  status_before_task: WorkItemStatus | null;
  assignments: number;
  /** What the latest assign asked for (so a task whose creation was cut short is made again alike). */
  assignment: Assignment | null;
  pull_request: { number: number; url: string } | null;
  last_failure: string | null;
  /** The GitHub issue the item came from (the bot took it for the project). */
  github_repo: string | null;
  github_issue_number: number | null;
  github_issue_url: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export type ItemChanges = Partial<
  Pick<
    ItemRow,
    | 'title'
    | 'body'
    | 'status'
    | 'priority'
    | 'severity'
    | 'steps'
    | 'environment'
    | 'milestone_id'
    | 'task_id'
    | 'task_state'
    | 'status_before_task'
    | 'assignments'
    | 'assignment'
    | 'pull_request'
    | 'last_failure'
  >
>;

export interface HistoryRow {
  id: string;
  item_id: string;
  actor: string;
  field: string;
  from_value: string | null;
  to_value: string | null;
  at: Date;
}

export interface CommentRow {
  id: string;
  seq: string;
  item_id: string;
  author: string;
  body: string;
  created_at: Date;
}

export interface ItemFilter {
  projectId: string;
  kind: WorkItemKind;
  status?: string;
  priority?: string;
  severity?: string;
  /** A milestone id, or `none`. */
  milestone?: string;
  q?: string;
  issue?: number;
  /** Items numbered below this (lists are newest first). */
  beforeNumber?: string;
  limit: number;
}

/** An assign's placement, kept on the item. */
export interface Assignment {
  target?: string;
  capabilities?: string[];
  labels?: string[];
  cli?: AgentCliName;
  timeoutSeconds?: number;
  by: Sender;
}

const I = '"tracker"."items"';
const H = '"tracker"."history"';
const C = '"tracker"."comments"';
const JSON_COLUMNS = new Set(['pull_request', 'assignment']);
/** Task states after which an item is free to be assigned again. */
export const SETTLED_TASK_STATES = ['succeeded', 'failed', 'cancelled', 'timed_out'];

@Injectable()
export class ItemRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(
    db: Queryable,
    row: Pick<
      ItemRow,
      | 'id'
      | 'project_id'
      | 'kind'
      | 'title'
      | 'body'
      | 'status'
      | 'priority'
      | 'severity'
      | 'steps'
      | 'environment'
      | 'milestone_id'
      | 'created_by'
    >,
  ): Promise<ItemRow> {
    const rows = await db.query<ItemRow[]>(
      `INSERT INTO ${I} ("id", "project_id", "kind", "title", "body", "status", "priority", "severity", "steps",
         "environment", "milestone_id", "created_by")
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
      [
        row.id,
        row.project_id,
        row.kind,
        row.title,
        row.body,
        row.status,
        row.priority,
        row.severity,
        row.steps,
        row.environment,
        row.milestone_id,
        row.created_by,
      ],
    );
    return singleRow(rows, 'insert item');
  }

  /** By id, or by ref (`feature-12`). */
  /**
   * The bug made from a GitHub issue, already linked to the issue's task: inserted now, or
   * null when one exists (the same link event seen twice, or by two replicas).
   */
  async insertFromIssue(
    db: Queryable,
    row: Pick<
      ItemRow,
      | 'id'
      | 'project_id'
      | 'title'
      | 'body'
      | 'task_id'
      | 'github_repo'
      | 'github_issue_number'
      | 'github_issue_url'
      | 'created_by'
    >,
  ): Promise<ItemRow | null> {
    const [created] = await db.query<ItemRow[]>(
      `INSERT INTO ${I} ("id", "project_id", "kind", "title", "body", "status", "priority", "severity", "steps",
         "environment", "task_id", "task_state", "status_before_task", "assignments", "github_repo",
         "github_issue_number", "github_issue_url", "created_by")
       VALUES ($1, $2, 'bug', $3, $4, 'in_progress', 'medium', 'major', '', '', $5, 'queued', 'open', 1, $6, $7, $8, $9)
       ON CONFLICT (lower("github_repo"), "github_issue_number") WHERE "github_repo" IS NOT NULL DO NOTHING
       RETURNING *`,
      [
        row.id,
        row.project_id,
        row.title,
        row.body,
        row.task_id,
        row.github_repo,
        row.github_issue_number,
        row.github_issue_url,
        row.created_by,
      ],
    );
    return created ?? null;
  }

  async findById(id: string, db: Queryable = this.dataSource): Promise<ItemRow | null> {
    const ref = /^(feature|bug)-(\d{1,12})$/.exec(id);
    const [row] = ref
      ? await db.query<ItemRow[]>(`SELECT * FROM ${I} WHERE "number" = $1::bigint AND "kind" = $2`, [ref[2], ref[1]])
      : await db.query<ItemRow[]>(`SELECT * FROM ${I} WHERE "id" = $1::uuid`, [id]);
    return row ?? null;
  }

  /** The item, locked until the transaction ends: its changes and their history are written by one writer at a time. */
  async lock(db: Queryable, id: string): Promise<ItemRow | null> {
    const [row] = await db.query<ItemRow[]>(`SELECT * FROM ${I} WHERE "id" = $1 FOR UPDATE`, [id]);
    return row ?? null;
  }

  async update(db: Queryable, id: string, changes: ItemChanges): Promise<ItemRow> {
    const entries = Object.entries(changes);
    const sets = entries.map(([column], i) => `"${column}" = $${i + 2}${JSON_COLUMNS.has(column) ? '::jsonb' : ''}`);
    const values = entries.map(([column, value]) =>
      JSON_COLUMNS.has(column) && value !== null ? JSON.stringify(value) : value,
    );
    const rows = await updateReturning<ItemRow>(
      db,
      `UPDATE ${I} SET ${[...sets, '"updated_at" = now()'].join(', ')} WHERE "id" = $1 RETURNING *`,
      [id, ...values],
    );
    return singleRow(rows, `update item ${id}`);
  }

  async delete(id: string): Promise<boolean> {
    const rows = await updateReturning<{ id: string }>(
      this.dataSource,
      `DELETE FROM ${I} WHERE "id" = $1 RETURNING "id"`,
      [id],
    );
    return rows.length > 0;
  }

  /** Newest first. */
  list(filter: ItemFilter): Promise<ItemRow[]> {
    const params: unknown[] = [filter.projectId, filter.kind];
    const where = ['"project_id" = $1', '"kind" = $2'];
    const add = (sql: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(sql(params.length));
    };
    if (filter.status) {
      add((n) => `"status" = $${n}`, filter.status);
    }
    if (filter.priority) {
      add((n) => `"priority" = $${n}`, filter.priority);
    }
    if (filter.severity) {
      add((n) => `"severity" = $${n}`, filter.severity);
    }
    if (filter.milestone === 'none') {
      where.push('"milestone_id" IS NULL');
    } else if (filter.milestone) {
      add((n) => `"milestone_id" = $${n}::uuid`, filter.milestone);
    }
    if (filter.q) {
      add((n) => `("title" ILIKE $${n} OR "body" ILIKE $${n})`, likePattern(filter.q));
    }
    if (filter.issue) {
      add((n) => `"github_issue_number" = $${n}`, filter.issue);
    }
    if (filter.beforeNumber) {
      add((n) => `"number" < $${n}::bigint`, filter.beforeNumber);
    }
    params.push(filter.limit + 1);
    return this.dataSource.query<ItemRow[]>(
      `SELECT * FROM ${I} WHERE ${where.join(' AND ')} ORDER BY "number" DESC LIMIT $${params.length}`,
      params,
    );
  }

  async idsOfTasks(taskIds: string[]): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT "id" FROM ${I} WHERE "task_id" = ANY($1::uuid[])`,
      [taskIds],
    );
    return rows.map((r) => r.id);
  }

  /** Items whose task has not settled (or was never made): the sweep looks at them. */
  async idsWithUnsettledTasks(limit = 500): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT "id" FROM ${I} WHERE "task_state" IS NOT NULL AND NOT ("task_state" = ANY($1::text[]))
       ORDER BY "updated_at" LIMIT $2`,
      [SETTLED_TASK_STATES, limit],
    );
    return rows.map((r) => r.id);
  }

  async addHistory(
    db: Queryable,
    itemId: string,
    actor: string,
    entries: { field: string; from: string | null; to: string | null }[],
  ): Promise<void> {
    if (!entries.length) {
      return;
    }
    const values = entries.map((_, i) => `($1, $2, $${i * 3 + 3}, $${i * 3 + 4}, $${i * 3 + 5})`);
    await db.query(
      `INSERT INTO ${H} ("item_id", "actor", "field", "from_value", "to_value") VALUES ${values.join(', ')}`,
      [itemId, actor, ...entries.flatMap((e) => [e.field, e.from, e.to])],
    );
  }

  history(itemId: string, afterId: string | undefined, limit: number): Promise<HistoryRow[]> {
    return this.dataSource.query<HistoryRow[]>(
      `SELECT * FROM ${H} WHERE "item_id" = $1 AND "id" > $2::bigint ORDER BY "id" LIMIT $3`,
      [itemId, afterId ?? '0', limit + 1],
    );
  }

  async addComment(db: Queryable, row: Pick<CommentRow, 'id' | 'item_id' | 'author' | 'body'>): Promise<CommentRow> {
    const rows = await db.query<CommentRow[]>(
      `INSERT INTO ${C} ("id", "item_id", "author", "body") VALUES ($1, $2, $3, $4) RETURNING *`,
      [row.id, row.item_id, row.author, row.body],
    );
    return singleRow(rows, 'insert comment');
  }

  /** Oldest first. */
  comments(itemId: string, afterSeq: string | undefined, limit: number): Promise<CommentRow[]> {
    return this.dataSource.query<CommentRow[]>(
      `SELECT * FROM ${C} WHERE "item_id" = $1 AND "seq" > $2::bigint ORDER BY "seq" LIMIT $3`,
      [itemId, afterSeq ?? '0', limit + 1],
    );
  }
}
