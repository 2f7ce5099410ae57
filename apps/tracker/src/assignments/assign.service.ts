import { Inject, Injectable } from '@nestjs/common';

import type { AssignRequest, CreateTaskRequest, GithubTaskReport, TaskView, WorkItemView } from '@waggle/contracts';
import { ErrorCode, FINAL_TASK_STATES, TaskRouterRpc, WaggleError } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, TransactionsService } from '@waggle/service-kit';

import { actorName, iso } from '../common/paging';
import type { Assignment, ItemRow } from '../items/item.repository';
import { ItemRepository } from '../items/item.repository';
import type { Change } from '../items/items.service';
import { ItemsService, refOf } from '../items/items.service';
import { assignable, IN_PROGRESS, reviewStatusOf } from '../items/transitions';
import type { ProjectRow } from '../projects/project.repository';
import { ProjectsService } from '../projects/projects.service';
import { githubRepoOf } from '../projects/remote-key';
import { TrackerConfig } from '../tracker.config';
import { itemPrompt } from './prompt';

/** What the hub itself is called in an item's history. */
const TRACKER = 'tracker';
/** A task whose creation was cut short (a crash between reserving and creating) is made again after this long. */
const CREATING_GRACE_MS = 30_000;

/**
 * Hands items to agents: one task at a time per item (a second assign while one runs is a
 * conflict), made by the task router as a `github-issue` task for the work item, so the
 * machine clones the project, runs the agent CLI and opens the pull request. The task's
 * events move the item: to review when the pull request is open, back where it was with the
 * failure report otherwise.
 */
@Injectable()
export class AssignService {
  constructor(
    private readonly items: ItemRepository,
    private readonly itemsService: ItemsService,
    private readonly projects: ProjectsService,
    private readonly hub: RpcClient,
    private readonly tx: TransactionsService,
    private readonly config: TrackerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async assign(req: AssignRequest): Promise<WorkItemView> {
    const item = await this.itemsService.find(req.kind, req.itemId);
    const project = await this.projects.find(item.project_id);
    const repo = githubRepoOf(project.repository);
    if (!repo) {
      throw WaggleError.invalid(
        `project "${project.key}" has no GitHub repository: an agent delivers its work as a pull request there`,
        [{ field: 'repository', errors: ['the project needs a GitHub owner/name repository'] }],
      );
    }
    const assignment: Assignment = {
      target: req.target ?? project.placement.target,
      capabilities: req.capabilities ?? project.placement.capabilities,
      labels: req.labels ?? project.placement.labels,
      cli: req.cli ?? project.placement.cli,
      timeoutSeconds: req.timeoutSeconds,
      by: req.actor,
    };
    // Reserve the item for this assignment: exactly one of two concurrent assigns gets it.
    const reserved = await this.tx.run(async (manager) => {
      const locked = await this.items.lock(manager, item.id);
      if (!locked) {
        throw WaggleError.notFound(req.kind, req.itemId);
      }
      if (locked.task_state !== null && !FINAL_TASK_STATES.has(locked.task_state as TaskView['state'])) {
        throw new WaggleError(
          ErrorCode.Conflict,
          `${refOf(locked)} is already with an agent (task ${locked.task_id ?? 'being made'}, ${locked.task_state})`,
          { taskId: locked.task_id, taskState: locked.task_state },
        );
      }
      if (!assignable(locked.kind, locked.status)) {
        throw new WaggleError(ErrorCode.Conflict, `a ${locked.kind} in ${locked.status} is not handed to an agent`, {
          status: locked.status,
        });
      }
      return this.itemsService.apply(
        manager,
        locked,
        {
          task_state: 'creating',
          task_id: null,
          assignments: locked.assignments + 1,
          assignment,
          status_before_task: locked.status,
          last_failure: null,
        },
        actorName(req.actor),
        [{ field: 'assigned', from: null, to: describe(assignment) }],
      );
    });
    return this.itemsService.view(await this.makeTask(reserved, project, repo));
  }

  /** Makes the reserved item's task (again with the same key after an interruption: still one task). */
  private async makeTask(item: ItemRow, project: ProjectRow, repo: string): Promise<ItemRow> {
    const assignment = item.assignment!;
    const ref = refOf(item);
    const comments = await this.itemsService.allComments(item.id);
    const request: CreateTaskRequest = {
      v: 1,
      title: `${project.key} ${ref}: ${item.title}`.slice(0, 300),
      kind: 'github-issue',
      input: {
        prompt: itemPrompt(
          {
            name: project.name,
            repository: repo,
            defaultBranch: project.default_branch,
            description: project.description,
          },
          { ...item, ref },
          comments.map((c) => ({ author: c.author, at: iso(c.created_at)!, body: c.body })),
        ),
        cli: assignment.cli,
        github: { repo, workItem: ref, issueTitle: item.title.slice(0, 300), mode: 'pull_request' },
      },
      target: assignment.target,
      requires: { capabilities: assignment.capabilities ?? [], labels: assignment.labels ?? [] },
      timeoutSeconds: assignment.timeoutSeconds,
      maxAttempts: this.config.WAGGLE_TRACKER_MAX_ATTEMPTS,
      idempotencyKey: `tracker-item:${item.id}:${item.assignments}`,
      createdBy: assignment.by,
    };
    let task: TaskView;
    try {
      task = await this.hub.call(TaskRouterRpc.create, request, 15_000);
    } catch (error) {
      if (error instanceof WaggleError && !error.retryable) {
        // Refused (no such machine, none could ever run it): the item goes back, and the caller hears why.
        await this.tx.run(async (manager) => {
          const locked = (await this.items.lock(manager, item.id))!;
          return this.itemsService.apply(
            manager,
            locked,
            { task_state: null, last_failure: `no task could be made: ${error.message}` },
            TRACKER,
            [{ field: 'task', from: 'creating', to: `refused: ${error.message}`.slice(0, 500) }],
          );
        });
      }
      throw error; // otherwise the router is away: the sweep makes the task later, with the same key
    }
    return this.tx.run(async (manager) => {
      const locked = (await this.items.lock(manager, item.id))!;
      if (locked.task_id === task.id) {
        return { result: locked, outbox: [] };
      }
      const changes: Partial<ItemRow> = { task_id: task.id, task_state: task.state, pull_request: null };
      if (locked.status !== IN_PROGRESS) {
        changes.status = IN_PROGRESS;
      }
      return this.itemsService.apply(manager, locked, changes, actorName(assignment.by), [
        { field: 'task', from: null, to: `${task.id} ${task.state}` },
      ]);
    });
  }

  /**
   * Brings an item in step with its task: a state change goes into the history; a final
   * state moves the item (review with the pull request, or back with the failure report).
   */
  async sync(itemId: string): Promise<void> {
    const item = await this.items.findById(itemId);
    if (!item || item.task_state === null || FINAL_TASK_STATES.has(item.task_state as TaskView['state'])) {
      return;
    }
    if (!item.task_id) {
      if (item.task_state === 'creating' && Date.now() - new Date(item.updated_at).getTime() > CREATING_GRACE_MS) {
        const project = await this.projects.find(item.project_id);
        const repo = githubRepoOf(project.repository);
        if (repo && item.assignment) {
          await this.makeTask(item, project, repo).catch((error: unknown) =>
            this.logger.warn({ err: error, itemId }, 'making the task of an item again failed; next sweep'),
          );
        }
      }
      return;
    }
    const task = await this.hub.call(TaskRouterRpc.get, { taskId: item.task_id }, 10_000);
    if (task.state === item.task_state) {
      return;
    }
    await this.tx.run(async (manager) => {
      const locked = await this.items.lock(manager, itemId);
      if (!locked || locked.task_id !== task.id || locked.task_state === task.state) {
        return { result: undefined, outbox: [] };
      }
      const where = task.machine ? ` on ${task.machine.name}` : '';
      const lines: Change[] = [{ field: 'task', from: locked.task_state, to: `${task.state}${where}` }];
      const changes: Partial<ItemRow> = { task_state: task.state };
      if (FINAL_TASK_STATES.has(task.state)) {
        Object.assign(changes, this.outcome(locked, task, lines));
      }
      const applied = await this.itemsService.apply(manager, locked, changes, TRACKER, lines);
      return { result: undefined, outbox: applied.outbox };
    });
  }

  /** What a settled task does to its item (only an item still in progress moves: a person may have moved it meanwhile). */
  private outcome(item: ItemRow, task: TaskView, lines: Change[]): Partial<ItemRow> {
    const report = (task.result?.structured as { github?: GithubTaskReport } | undefined)?.github;
    const back = item.status_before_task ?? item.status;
    const stillInProgress = item.status === IN_PROGRESS;
    if (task.state === 'succeeded' && report?.outcome === 'pull_request' && report.pullRequest) {
      const pull = { number: report.pullRequest.number, url: report.pullRequest.url };
      lines.push({ field: 'pull_request', from: null, to: pull.url });
      return { pull_request: pull, ...(stillInProgress ? { status: reviewStatusOf(item.kind) } : {}) };
    }
    const failure =
      task.state === 'succeeded'
        ? 'the agent changed nothing: no pull request'
        : [
            `task ${task.state}`,
            report?.failedStep ? `at step ${report.failedStep}` : undefined,
            task.result?.error ? `: ${task.result.error}` : undefined,
          ]
            .filter(Boolean)
            .join(' ')
            .replace(' :', ':')
            .slice(0, 2000);
    lines.push({ field: 'failure', from: null, to: failure.slice(0, 500) });
    return { last_failure: failure, ...(stillInProgress ? { status: back } : {}) };
  }
}

function describe(a: Assignment): string {
  const parts = [
    a.target ? `machine ${a.target}` : 'any capable machine',
    a.capabilities?.length ? `needs ${a.capabilities.join(', ')}` : undefined,
    a.labels?.length ? `labels ${a.labels.join(', ')}` : undefined,
    a.cli ? `with ${a.cli}` : undefined,
  ];
  return parts.filter(Boolean).join(', ');
}
