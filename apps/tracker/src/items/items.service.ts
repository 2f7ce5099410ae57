import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type {
  CommentView,
  CreateBugRequest,
  CreateCommentRequest,
  CreateFeatureRequest,
  HistoryEntryView,
  ItemPageRequest,
  ListWorkItemsRequest,
  Page,
  TaskState,
  UpdateBugRequest,
  UpdateFeatureRequest,
  WorkItemKind,
  WorkItemView,
} from '@waggle/contracts';
import { WaggleError } from '@waggle/contracts';
import { event } from '@waggle/outbox';
import { TransactionsService } from '@waggle/service-kit';

import { actorName, iso, limitOf, numericCursor, pageOf } from '../common/paging';
import { MilestoneRepository } from '../milestones/milestone.repository';
import { ProjectsService } from '../projects/projects.service';
import type { CommentRow, HistoryRow, ItemChanges, ItemRow } from './item.repository';
import { ItemRepository } from './item.repository';
import { checkTransition } from './transitions';

/** One line of an item's history. */
export interface Change {
  field: string;
  from: string | null;
  to: string | null;
}

export const refOf = (row: Pick<ItemRow, 'kind' | 'number'>) => `${row.kind}-${row.number}`;

/** Fields whose old and new values are kept in the history in full; long text is noted as changed. */
const SHORT_FIELDS = new Set(['title', 'status', 'priority', 'severity', 'milestone_id']);
const HISTORY_NAMES: Record<string, string> = { milestone_id: 'milestone' };

@Injectable()
export class ItemsService {
  constructor(
    private readonly items: ItemRepository,
    private readonly milestones: MilestoneRepository,
    private readonly projects: ProjectsService,
    private readonly tx: TransactionsService,
  ) {}

  async createFeature(req: CreateFeatureRequest): Promise<WorkItemView> {
    return this.create(req.project, req.actor, {
      kind: 'feature',
      title: req.title,
      body: req.spec ?? '',
      status: req.status ?? 'proposed',
      priority: req.priority ?? 'medium',
      severity: null,
      steps: null,
      environment: null,
      milestone_id: req.milestoneId ?? null,
    });
  }

  async createBug(req: CreateBugRequest): Promise<WorkItemView> {
    return this.create(req.project, req.actor, {
      kind: 'bug',
      title: req.title,
      body: req.description ?? '',
      status: req.status ?? 'open',
      priority: req.priority ?? 'medium',
      severity: req.severity ?? 'major',
      steps: req.steps ?? '',
      environment: req.environment ?? '',
      milestone_id: req.milestoneId ?? null,
    });
  }

  private async create(
    projectRef: string,
    actor: CreateFeatureRequest['actor'],
    fields: Pick<
      ItemRow,
      'kind' | 'title' | 'body' | 'status' | 'priority' | 'severity' | 'steps' | 'environment' | 'milestone_id'
    >,
  ): Promise<WorkItemView> {
    const project = await this.projects.find(projectRef);
    await this.checkMilestone(project.id, fields.milestone_id);
    const who = actorName(actor);
    const row = await this.tx.run(async (manager) => {
      const created = await this.items.insert(manager, {
        id: randomUUID(),
        project_id: project.id,
        created_by: who,
        ...fields,
      });
      await this.items.addHistory(manager, created.id, who, [{ field: 'created', from: null, to: created.status }]);
      return { result: created, outbox: [this.changed(created)] };
    });
    return this.view(row);
  }

  async updateFeature(req: UpdateFeatureRequest): Promise<WorkItemView> {
    return this.update('feature', req.itemId, req.actor, {
      title: req.title,
      body: req.spec,
      status: req.status,
      priority: req.priority,
      milestone_id: req.milestoneId,
    });
  }

  async updateBug(req: UpdateBugRequest): Promise<WorkItemView> {
    return this.update('bug', req.itemId, req.actor, {
      title: req.title,
      body: req.description,
      steps: req.steps,
      environment: req.environment,
      severity: req.severity,
      status: req.status,
      priority: req.priority,
      milestone_id: req.milestoneId,
    });
  }

  private async update(
    kind: WorkItemKind,
    id: string,
    actor: UpdateFeatureRequest['actor'],
    wanted: ItemChanges,
  ): Promise<WorkItemView> {
    const current = await this.find(kind, id);
    if (wanted.milestone_id) {
      await this.checkMilestone(current.project_id, wanted.milestone_id);
    }
    const row = await this.tx.run(async (manager) => {
      const locked = await this.items.lock(manager, current.id);
      if (!locked) {
        throw WaggleError.notFound(kind, id);
      }
      if (wanted.status !== undefined) {
        checkTransition(kind, locked.status, wanted.status);
      }
      const changes: ItemChanges = {};
      for (const [field, value] of Object.entries(wanted) as [keyof ItemChanges, unknown][]) {
        if (value !== undefined && value !== locked[field]) {
          (changes as Record<string, unknown>)[field] = value;
        }
      }
      return this.apply(manager, locked, changes, actorName(actor));
    });
    return this.view(row);
  }

  /**
   * Writes changes of a locked item with a history line per changed field (and any `extra`
   * lines), and announces the change; in the caller's transaction.
   */
  async apply(
    manager: EntityManager,
    locked: ItemRow,
    changes: ItemChanges,
    actor: string,
    extra: Change[] = [],
  ): Promise<{ result: ItemRow; outbox: ReturnType<typeof event>[] }> {
    const lines: Change[] = [];
    for (const [field, value] of Object.entries(changes)) {
      if (!SHORT_FIELDS.has(field) && !['body', 'steps', 'environment'].includes(field)) {
        continue;
      }
      const name =
        field === 'body' ? (locked.kind === 'feature' ? 'spec' : 'description') : (HISTORY_NAMES[field] ?? field);
      const before = locked[field as keyof ItemRow] as string | null;
      lines.push(
        SHORT_FIELDS.has(field)
          ? { field: name, from: before ?? null, to: (value as string | null) ?? null }
          : { field: name, from: null, to: 'edited' },
      );
    }
    if (!Object.keys(changes).length && !extra.length) {
      return { result: locked, outbox: [] };
    }
    const row = Object.keys(changes).length ? await this.items.update(manager, locked.id, changes) : locked;
    // What happened first (the task's news), then what it changed on the item.
    await this.items.addHistory(manager, locked.id, actor, [...extra, ...lines]);
    return { result: row, outbox: [this.changed(row)] };
  }

  async get(kind: WorkItemKind, id: string): Promise<WorkItemView> {
    return this.view(await this.find(kind, id));
  }

  async find(kind: WorkItemKind, id: string): Promise<ItemRow> {
    const row = await this.items.findById(id);
    if (!row || row.kind !== kind) {
      throw WaggleError.notFound(kind, id);
    }
    return row;
  }

  async list(req: ListWorkItemsRequest): Promise<Page<WorkItemView>> {
    const project = await this.projects.find(req.project);
    const limit = limitOf(req.limit);
    const rows = await this.items.list({
      projectId: project.id,
      kind: req.kind,
      status: req.status,
      priority: req.priority,
      severity: req.severity,
      milestone: req.milestone,
      q: req.q,
      issue: req.issue,
      beforeNumber: numericCursor(req.cursor),
      limit,
    });
    return pageOf(
      rows,
      limit,
      (r) => [String(r.number)],
      (r) => this.view(r),
    );
  }

  async delete(kind: WorkItemKind, id: string): Promise<{ deleted: true }> {
    const row = await this.find(kind, id);
    if (!(await this.items.delete(row.id))) {
      throw WaggleError.notFound(kind, id);
    }
    return { deleted: true };
  }

  async comment(req: CreateCommentRequest): Promise<CommentView> {
    const item = await this.find(req.kind, req.itemId);
    const author = actorName(req.actor);
    const row = await this.tx.run(async (manager) => {
      const comment = await this.items.addComment(manager, {
        id: randomUUID(),
        item_id: item.id,
        author,
        body: req.body,
      });
      await this.items.addHistory(manager, item.id, author, [{ field: 'comment', from: null, to: comment.id }]);
      return { result: comment, outbox: [] };
    });
    return this.commentView(row);
  }

  async comments(req: ItemPageRequest): Promise<Page<CommentView>> {
    const item = await this.find(req.kind, req.itemId);
    const limit = limitOf(req.limit);
    const rows = await this.items.comments(item.id, numericCursor(req.cursor), limit);
    return pageOf(
      rows,
      limit,
      (r) => [String(r.seq)],
      (r) => this.commentView(r),
    );
  }

  /** The people's comments, oldest first (for an agent's prompt). */
  async allComments(itemId: string, max = 200): Promise<CommentRow[]> {
    return this.items.comments(itemId, undefined, max);
  }

  async history(req: ItemPageRequest): Promise<Page<HistoryEntryView>> {
    const item = await this.find(req.kind, req.itemId);
    const limit = limitOf(req.limit);
    const rows = await this.items.history(item.id, numericCursor(req.cursor), limit);
    return pageOf(
      rows,
      limit,
      (r) => [String(r.id)],
      (r) => this.historyView(r),
    );
  }

  /** A milestone given for an item must be one of the item's project. */
  private async checkMilestone(projectId: string, milestoneId: string | null | undefined) {
    if (!milestoneId) {
      return;
    }
    const milestone = await this.milestones.findById(milestoneId);
    if (!milestone) {
      throw WaggleError.invalid(`milestone ${milestoneId} does not exist`, [
        { field: 'milestoneId', errors: ['no such milestone'] },
      ]);
    }
    if (milestone.project_id !== projectId) {
      throw WaggleError.invalid(`milestone "${milestone.title}" belongs to another project`, [
        { field: 'milestoneId', errors: ['must be a milestone of the same project'] },
      ]);
    }
  }

  changed(row: ItemRow) {
    return event(randomUUID(), 'tracker.item_changed', {
      itemId: row.id,
      ref: refOf(row),
      projectId: row.project_id,
      status: row.status,
      taskId: row.task_id,
    });
  }

  view(row: ItemRow): WorkItemView {
    return {
      id: row.id,
      kind: row.kind,
      ref: refOf(row),
      projectId: row.project_id,
      title: row.title,
      body: row.body,
      status: row.status,
      priority: row.priority,
      severity: row.severity,
      steps: row.steps,
      environment: row.environment,
      milestoneId: row.milestone_id,
      taskId: row.task_id,
      taskState: row.task_state as TaskState | 'creating' | null,
      pullRequest: row.pull_request,
      lastFailure: row.last_failure,
      githubIssue:
        row.github_repo && row.github_issue_number && row.github_issue_url
          ? { repo: row.github_repo, number: row.github_issue_number, url: row.github_issue_url }
          : null,
      createdBy: row.created_by,
      createdAt: iso(row.created_at)!,
      updatedAt: iso(row.updated_at)!,
    };
  }

  private commentView(row: CommentRow): CommentView {
    return { id: row.id, itemId: row.item_id, author: row.author, body: row.body, createdAt: iso(row.created_at)! };
  }

  private historyView(row: HistoryRow): HistoryEntryView {
    return {
      id: String(row.id),
      itemId: row.item_id,
      actor: row.actor,
      field: row.field,
      from: row.from_value,
      to: row.to_value,
      at: iso(row.at)!,
    };
  }
}
