import { Injectable } from '@nestjs/common';

import type {
  ErrorBugRequest,
  ErrorEventView,
  ErrorGroupRefRequest,
  ErrorGroupView,
  ErrorLevel,
  ErrorGroupStatus,
  FixErrorGroupRequest,
  ListErrorEventsRequest,
  ListErrorGroupsRequest,
  MergeErrorGroupsRequest,
  Page,
  UpdateErrorGroupRequest,
  WorkItemView,
} from '@waggle/contracts';
import { ErrorCode, WaggleError } from '@waggle/contracts';
import { TransactionsService } from '@waggle/service-kit';

import { AssignService } from '../assignments/assign.service';
import { cursorKeys, iso, limitOf, numericCursor, pageOf } from '../common/paging';
import { ItemsService } from '../items/items.service';
import { ProjectsService } from '../projects/projects.service';
import { TrackerConfig } from '../tracker.config';
import type { ErrorEventRow, ErrorGroupRow } from './error.repository';
import { ErrorRepository } from './error.repository';
import { bugReport } from './bug-report';

/** Reading error groups, changing their status, merging them, and turning one into a bug an agent fixes. */
@Injectable()
export class ErrorsService {
  constructor(
    private readonly errors: ErrorRepository,
    private readonly projects: ProjectsService,
    private readonly items: ItemsService,
    private readonly assigns: AssignService,
    private readonly tx: TransactionsService,
    private readonly config: TrackerConfig,
  ) {}

  async list(req: ListErrorGroupsRequest): Promise<Page<ErrorGroupView>> {
    const limit = limitOf(req.limit);
    const sort = req.sort ?? 'last_seen';
    const projectId = req.project ? (await this.projects.find(req.project)).id : undefined;
    const keys = cursorKeys(req.cursor);
    if (keys && keys.length !== 2) {
      throw WaggleError.invalid('cursor is not a cursor returned by a previous page', [
        { field: 'cursor', errors: ['cursor is malformed'] },
      ]);
    }
    const rows = await this.errors.listGroups({
      projectId,
      status: req.status,
      machine: req.machine,
      release: req.release,
      q: req.q,
      sort,
      after: keys as [string, string] | undefined,
      limit,
    });
    return pageOf(
      rows,
      limit,
      (r) => [sort === 'count' ? String(r.count) : (sort === 'first_seen' ? r.first_seen : r.last_seen).toISOString(), r.id],
      (r) => this.view(r),
    );
  }

  async get(req: ErrorGroupRefRequest): Promise<ErrorGroupView> {
    return this.view(await this.find(req.groupId));
  }

  async events(req: ListErrorEventsRequest): Promise<Page<ErrorEventView>> {
    await this.find(req.groupId);
    const limit = limitOf(req.limit);
    const rows = await this.errors.listEvents(req.groupId, numericCursor(req.cursor), limit);
    return pageOf(
      rows,
      limit,
      (r) => [String(r.seq)],
      (r) => this.eventView(r),
    );
  }

  async update(req: UpdateErrorGroupRequest): Promise<ErrorGroupView> {
    const group = await this.find(req.groupId);
    if (req.status !== 'ignored' && (req.ignoreUntil || req.ignoreCount)) {
      throw WaggleError.invalid('ignoreUntil and ignoreCount go with status ignored', [
        { field: 'status', errors: ['ignoreUntil and ignoreCount need status ignored'] },
      ]);
    }
    await this.errors.setStatus(
      group.id,
      req.status,
      req.ignoreUntil ?? null,
      req.ignoreCount ? Number(group.count) + req.ignoreCount : null,
    );
    return this.get(req);
  }

  async merge(req: MergeErrorGroupsRequest): Promise<ErrorGroupView> {
    const sources = [...new Set(req.groups)].filter((g) => g !== req.groupId);
    if (!sources.length) {
      throw WaggleError.invalid('name at least one other group to merge', [
        { field: 'groups', errors: ['groups must name groups other than the target'] },
      ]);
    }
    await this.tx.run(async (manager) => {
      const locked = await this.errors.lockGroups(manager, [req.groupId, ...sources]);
      const target = locked.find((g) => g.id === req.groupId);
      if (!target) {
        throw WaggleError.notFound('error group', req.groupId);
      }
      for (const id of sources) {
        const g = locked.find((l) => l.id === id);
        if (!g) {
          throw WaggleError.notFound('error group', id);
        }
        if (g.project_id !== target.project_id) {
          throw new WaggleError(ErrorCode.Conflict, `error group ${id} is of another project`);
        }
      }
      await this.errors.merge(manager, req.groupId, sources, this.config.WAGGLE_TRACKER_ERROR_EVENTS_PER_GROUP);
      return { result: undefined, outbox: [] };
    });
    return this.get(req);
  }

  /** The group's bug, made from the group and its latest event the first time. */
  async bug(req: ErrorBugRequest): Promise<WorkItemView> {
    const group = await this.find(req.groupId);
    if (group.bug_id) {
      return this.items.get('bug', group.bug_id);
    }
    const [latest] = await this.errors.listEvents(group.id, undefined, 1);
    const report = bugReport(this.view(group), latest ? this.eventView(latest) : undefined);
    const bug = await this.items.createBug({
      v: 1,
      project: group.project_id,
      title: report.title,
      description: report.description,
      environment: report.environment,
      severity: group.level === 'fatal' ? 'critical' : 'major',
      actor: req.actor,
    });
    const linked = await this.errors.linkBug(group.id, bug.id);
    if (linked !== bug.id) {
      // Another request made the group's bug first: that one stays.
      await this.items.delete('bug', bug.id);
      return this.items.get('bug', linked!);
    }
    return bug;
  }

  /** "Fix it": the group's bug handed to an agent, whose prompt carries the stack trace and the latest event. */
  async fix(req: FixErrorGroupRequest): Promise<WorkItemView> {
    const bug = await this.bug({ v: 1, groupId: req.groupId, actor: req.actor });
    return this.assigns.assign({
      v: 1,
      kind: 'bug',
      itemId: bug.id,
      target: req.target,
      capabilities: req.capabilities,
      labels: req.labels,
      cli: req.cli,
      timeoutSeconds: req.timeoutSeconds,
      actor: req.actor,
    });
  }

  private async find(id: string): Promise<ErrorGroupRow> {
    const row = await this.errors.findGroup(id);
    if (!row) {
      throw WaggleError.notFound('error group', id);
    }
    return row;
  }

  view(row: ErrorGroupRow): ErrorGroupView {
    return {
      id: row.id,
      projectId: row.project_id,
      projectKey: row.project_key,
      title: row.title,
      culprit: row.culprit,
      type: row.type,
      level: row.level as ErrorLevel,
      status: row.status as ErrorGroupStatus,
      count: Number(row.count),
      firstSeen: iso(row.first_seen)!,
      lastSeen: iso(row.last_seen)!,
      machines: row.machines,
      releases: row.releases,
      ignoreUntil: iso(row.ignore_until),
      ignoreUntilCount: row.ignore_until_count === null ? null : Number(row.ignore_until_count),
      bug:
        row.bug_id && row.bug_number
          ? {
              id: row.bug_id,
              ref: `bug-${row.bug_number}`,
              status: row.bug_status!,
              taskId: row.bug_task_id,
              pullRequestUrl: row.bug_pull_request?.url ?? null,
            }
          : null,
    };
  }

  eventView(row: ErrorEventRow): ErrorEventView {
    return {
      id: row.id,
      groupId: row.group_id,
      receivedAt: iso(row.received_at)!,
      occurredAt: iso(row.occurred_at)!,
      level: row.level as ErrorLevel,
      machine: row.machine,
      release: row.release,
      environment: row.environment,
      message: row.message,
      exceptions: row.exceptions,
      tags: row.tags,
      context: row.context,
    };
  }
}
