import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { EntityManager } from 'typeorm';

import type {
  CreateTaskRequest,
  ListTasksRequest,
  MachineView,
  RetryPolicy,
  Page,
  TaskAssignment,
  TaskCreator,
  TaskLeaseReply,
  TaskLogsPage,
  TaskLogsRequest,
  TaskReleaseReply,
  TaskResult,
  TaskResultRequest,
  TaskStats,
  TaskView,
} from '@waggle/contracts';
import {
  assertSameRequest,
  ErrorCode,
  idPrefixRange,
  machineDispatchRefusal,
  machineTaskRefusal,
  oneMatch,
  UUID_PATTERN,
  VaultRpc,
  WaggleError,
} from '@waggle/contracts';
import { publishMachine, RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, NATS, TransactionsService } from '@waggle/service-kit';

import { TaskRouterMetrics } from '../infrastructure/task-router.metrics';
import { FleetService } from '../placement/fleet.service';
import type { PlacementTask } from '../placement/placement';
import { staticMismatch } from '../placement/placement';
import { TaskRouterConfig } from '../task-router.config';
import { HelpRepository } from './help.repository';
import { taskEvent } from './task-events';
import { TaskLogRepository } from './task-log.repository';
import { TaskStatsRepository } from './task-stats.repository';
import { TaskViewRepository } from './task-view.repository';
import type { NewTask, TaskRow } from './task.repository';
import { DEFAULT_BACKOFF_SECONDS } from './task.repository';
import { TaskRepository } from './task.repository';

const DEFAULTS = { priority: 50, timeoutSeconds: 3600, maxAttempts: 3 };

/** A policy as stored: each kind and code once, in order (so equal policies compare equal). */
function retryPolicyOf(policy: RetryPolicy): RetryPolicy {
  return {
    on: [...new Set(policy.on ?? [])].sort(),
    exitCodes: [...new Set(policy.exitCodes ?? [])].sort((a, b) => a - b),
    backoffSeconds: policy.backoffSeconds ?? DEFAULT_BACKOFF_SECONDS,
  };
}

/** Which input fields each kind needs and allows. */
export function checkInput(request: Pick<CreateTaskRequest, 'kind' | 'input'>) {
  const input = request.input;
  const need = (field: keyof typeof input, ok: boolean) =>
    ok ? [] : [{ field: `input.${field}`, errors: [`input.${field} is required for a ${request.kind} task`] }];
  const forbid = (fields: (keyof typeof input)[]) =>
    fields
      .filter((f) => input[f] !== undefined)
      .map((f) => ({ field: `input.${f}`, errors: [`input.${f} does not apply to a ${request.kind} task`] }));
  const errors = (() => {
    switch (request.kind) {
      case 'agent':
        return [...need('prompt', !!input.prompt), ...forbid(['program', 'args', 'script', 'github'])];
      case 'command':
        return [...need('program', !!input.program), ...forbid(['prompt', 'cli', 'model', 'script', 'github'])];
      case 'shell':
        return [...need('script', !!input.script), ...forbid(['prompt', 'cli', 'model', 'program', 'args', 'github'])];
      case 'github-issue':
        // The machine makes its own working tree (a clone); a cwd would point it elsewhere.
        return [
          ...need('prompt', !!input.prompt),
          ...need('github', !!input.github),
          ...forbid(['program', 'args', 'script', 'cwd']),
        ];
    }
  })();
  if (errors.length) {
    throw WaggleError.invalid(`input does not fit a ${request.kind} task`, errors);
  }
}

@Injectable()
export class TasksService implements OnModuleInit {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly views: TaskViewRepository,
    private readonly taskLogs: TaskLogRepository,
    private readonly help: HelpRepository,
    private readonly stats: TaskStatsRepository,
    private readonly fleet: FleetService,
    private readonly rpc: RpcClient,
    private readonly tx: TransactionsService,
    private readonly config: TaskRouterConfig,
    private readonly metrics: TaskRouterMetrics,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit() {
    this.metrics.countTasksWith(() => this.stats.countLive());
  }

  /** The overview's task counts (GET /api/overview through the gateway). */
  overview(since: Date): Promise<TaskStats> {
    return this.stats.countForOverview(since);
  }

  /**
   * Refuses at once a task no machine known (online or not) could ever run, with the
   * reasons. A create with an idempotency key already used returns the task made then (the
   * same key with another body is refused). A machine creates tasks only with `dispatch`,
   * and shell or command tasks only for itself.
   */
  async create(request: CreateTaskRequest): Promise<TaskView> {
    const key = request.idempotencyKey;
    const ttl = this.config.WAGGLE_IDEMPOTENCY_TTL_SECONDS;
    const earlier = key ? await this.tasks.findByIdempotencyKey(key, ttl) : null;
    if (earlier) {
      assertSameRequest(earlier.idempotency_fingerprint, request.idempotencyFingerprint);
      return this.view(earlier);
    }
    const creator = await this.creatorOf(request);
    const task = await this.prepare(request);
    if (creator) {
      const refusal = machineTaskRefusal(creator, { kind: task.kind, targetMachineId: task.target_machine_id });
      if (refusal) {
        throw new WaggleError(ErrorCode.Forbidden, refusal);
      }
    }
    const { row, created } = await this.tx.run(async (manager) => {
      const inserted = await this.tasks.insert(manager, task);
      if (inserted) {
        return { result: { row: inserted, created: true }, outbox: [taskEvent(inserted)] };
      }
      // A concurrent create with the same key won; its task is the answer.
      const winner = await this.tasks.findByIdempotencyKey(key!, ttl, manager);
      if (!winner) {
        throw new WaggleError(ErrorCode.Conflict, 'a task with this idempotency key is being created; try again');
      }
      assertSameRequest(winner.idempotency_fingerprint, request.idempotencyFingerprint);
      return { result: { row: winner, created: false }, outbox: [] };
    });
    if (created) {
      this.metrics.transitions.inc({ state: 'queued' });
    }
    return this.view(row);
  }

  /**
   * The machine creating a task, as the registry knows it now (a permission withdrawn a
   * moment ago counts), refused at once without `dispatch`; undefined when a person or a
   * service creates it.
   */
  private async creatorOf(request: CreateTaskRequest): Promise<TaskCreator | undefined> {
    if (request.createdBy.kind !== 'machine') {
      return undefined;
    }
    const machineId = request.createdBy.machineId;
    const machine = machineId ? await this.fleet.current(machineId) : undefined;
    if (!machine || machine.status === 'revoked') {
      throw new WaggleError(ErrorCode.Forbidden, 'the creating machine is unknown or revoked');
    }
    const refusal = machineDispatchRefusal(machine);
    if (refusal) {
      throw new WaggleError(ErrorCode.Forbidden, refusal);
    }
    return machine;
  }

  /** Checks a new task (input, placement, parent) and gives the row to insert. */
  async prepare(request: CreateTaskRequest): Promise<NewTask> {
    checkInput(request);
    const secrets = request.secrets ?? {};
    const secretLabels: string[] = [];
    if (Object.keys(secrets).length) {
      // Every secret must be in the task's reach now (the vault checks again when a machine asks
      // for them); one kept for machines with a label places the task on such machines only.
      const { resolved } = await this.rpc.call(VaultRpc.check, { v: 1, refs: secrets, project: request.project });
      secretLabels.push(...Object.values(resolved).flatMap((r) => (r.machineLabel ? [r.machineLabel] : [])));
    }
    const labels = [...new Set([...(request.requires?.labels ?? []), ...secretLabels])];
    const requires = { capabilities: request.requires?.capabilities ?? [], labels };
    const shape = { kind: request.kind, input: request.input, requires };
    // Placement may use a slightly old view of the fleet; a refusal never does.
    let machines = await this.fleet.machines();
    let verdict = this.feasibility(request, shape, machines);
    if (verdict instanceof WaggleError) {
      machines = await this.fleet.machines(true);
      verdict = this.feasibility(request, shape, machines);
      if (verdict instanceof WaggleError) {
        throw verdict;
      }
    }
    const target = verdict.target;
    if (request.parentTaskId && !(await this.tasks.findById(request.parentTaskId))) {
      throw WaggleError.notFound('task', request.parentTaskId);
    }
    return {
      id: randomUUID(),
      title: request.title,
      kind: request.kind,
      input: request.input,
      target_machine_id: target?.machineId ?? null,
      target_name: target?.name ?? null,
      requires,
      priority: request.priority ?? DEFAULTS.priority,
      timeout_seconds: request.timeoutSeconds ?? DEFAULTS.timeoutSeconds,
      max_attempts: request.maxAttempts ?? DEFAULTS.maxAttempts,
      retry_policy: request.retry ? retryPolicyOf(request.retry) : null,
      parent_task_id: request.parentTaskId ?? null,
      secrets,
      project: request.project ?? null,
      idempotency_key: request.idempotencyKey ?? null,
      idempotency_fingerprint: request.idempotencyKey ? (request.idempotencyFingerprint ?? null) : null,
      created_by: request.createdBy,
    };
  }

  /** Inserts a prepared task without an idempotency key inside the caller's transaction (the caller adds its event and counts it once committed). */
  async insert(
    manager: EntityManager,
    task: Omit<NewTask, 'idempotency_key' | 'idempotency_fingerprint'>,
  ): Promise<TaskRow> {
    const row = await this.tasks.insert(manager, { ...task, idempotency_key: null, idempotency_fingerprint: null });
    if (!row) {
      throw new Error('a task without an idempotency key was not inserted');
    }
    return row;
  }

  /** Whether some machine could ever run the task (or the target can); the error says why not. */
  private feasibility(
    request: CreateTaskRequest,
    shape: PlacementTask,
    machines: MachineView[],
  ): { target: { machineId: string; name: string } | null } | WaggleError {
    if (request.target) {
      const machine = machines.find((m) => m.id === request.target || m.name === request.target);
      if (!machine) {
        return WaggleError.notFound('machine', request.target);
      }
      const reasons = staticMismatch(shape, machine);
      if (reasons.length) {
        return WaggleError.invalid(`${machine.name} cannot run this task: ${reasons.join('; ')}`, [
          { field: 'target', errors: reasons },
        ]);
      }
      return { target: { machineId: machine.id, name: machine.name } };
    }
    const mismatches = machines.map((m) => ({ name: m.name, reasons: staticMismatch(shape, m) }));
    if (mismatches.some((m) => m.reasons.length === 0)) {
      return { target: null };
    }
    const lines = mismatches.map((m) => `${m.name}: ${m.reasons.join('; ')}`);
    return WaggleError.invalid(
      `no machine can ever run this task (${lines.length ? lines.join(' | ') : 'no machines have joined'})`,
      [{ field: 'requires', errors: lines }],
    );
  }

  async get(taskId: string): Promise<TaskView> {
    return this.view(await this.require(taskId));
  }

  async list(query: ListTasksRequest): Promise<Page<TaskView>> {
    const machineId = query.machine ? (await this.fleet.find(query.machine))?.id : undefined;
    if (query.machine && !machineId) {
      throw WaggleError.notFound('machine', query.machine);
    }
    const page = await this.views.list({ ...query, machineId });
    const ids = page.items.map((t) => t.id);
    const [attempts, help] = await Promise.all([this.views.attemptsOf(ids), this.help.ofParents(ids)]);
    return {
      items: page.items.map((t) => this.views.toView(t, attempts.get(t.id) ?? [], help.get(t.id) ?? [])),
      nextCursor: page.nextCursor,
    };
  }

  async cancel(taskId: string): Promise<TaskView> {
    const row = await this.tx.run(async (manager) => {
      const changed = await this.tasks.cancel(manager, taskId);
      if (!changed) {
        const state = (await this.require(taskId, manager)).state;
        throw new WaggleError(ErrorCode.Conflict, `task is already ${state}`, { state });
      }
      return {
        result: changed,
        outbox: changed.state === 'cancelled' ? [taskEvent({ ...changed, machineId: changed.machine_id })] : [],
      };
    });
    if (row.state === 'cancelled') {
      this.metrics.transitions.inc({ state: 'cancelled' });
    }
    if (row.state === 'running' && row.machine_id) {
      // Fast path; the next renewal tells the agent too, should this push be lost.
      publishMachine(this.nc, 'cancel', row.machine_id, { taskId: row.id, attempt: row.attempt });
    }
    return this.view(row);
  }

  async retry(taskId: string): Promise<TaskView> {
    const row = await this.tx.run(async (manager) => {
      const changed = await this.tasks.retry(manager, taskId);
      if (!changed) {
        const state = (await this.require(taskId, manager)).state;
        throw new WaggleError(
          ErrorCode.Conflict,
          `only a failed, cancelled or timed-out task can be retried; this one is ${state}`,
          { state },
        );
      }
      return { result: changed, outbox: [taskEvent(changed, true)] };
    });
    this.metrics.transitions.inc({ state: 'requeued' });
    return this.view(row);
  }

  async logs(request: TaskLogsRequest): Promise<TaskLogsPage> {
    await this.require(request.taskId);
    return this.taskLogs.pageAfter(request.taskId, request.after ?? 0, request.limit ?? 1000);
  }

  /** The machine starts an attempt. Refused if the attempt is not the current one, or cancelled. */
  async claim(machineId: string, taskId: string, attempt: number): Promise<TaskLeaseReply> {
    const row = await this.tx.run(async (manager) => {
      const claimed = await this.tasks.claim(
        manager,
        machineId,
        taskId,
        attempt,
        this.config.WAGGLE_TASK_LEASE_SECONDS,
      );
      return { result: claimed, outbox: claimed ? [taskEvent({ ...claimed, machineId })] : [] };
    });
    if (!row) {
      return this.stale('claim', taskId, attempt);
    }
    this.metrics.transitions.inc({ state: 'running' });
    // Only a first attempt's wait is known (a retry's return to the queue is not stored); both ends are Postgres's clock.
    if (row.attempt === 1) {
      this.metrics.queueWait.observe(Math.max(0, (row.updated_at.getTime() - row.created_at.getTime()) / 1000));
    }
    return { leaseSeconds: this.config.WAGGLE_TASK_LEASE_SECONDS, cancel: false };
  }

  async renew(machineId: string, taskId: string, attempt: number): Promise<TaskLeaseReply> {
    const renewed = await this.tasks.renew(machineId, taskId, attempt, this.config.WAGGLE_TASK_LEASE_SECONDS);
    if (!renewed) {
      return this.stale('renew', taskId, attempt);
    }
    return { leaseSeconds: this.config.WAGGLE_TASK_LEASE_SECONDS, cancel: renewed.cancel };
  }

  /** Records an attempt's result exactly once; a late result from a superseded attempt is refused. */
  /** A stopping machine hands back an attempt: queued again at once (or failed, its attempts used up). */
  async release(machineId: string, taskId: string, attempt: number): Promise<TaskReleaseReply> {
    const released = await this.tx.run(async (manager) => {
      const lost = await this.tasks.releaseAttempt(manager, machineId, taskId, attempt);
      return {
        result: lost,
        outbox: lost
          ? [taskEvent(lost, lost.state === 'queued', `attempt ${attempt} handed back: its machine stopped`)]
          : [],
      };
    });
    if (released) {
      this.metrics.transitions.inc({ state: released.state === 'queued' ? 'requeued' : released.state });
      this.logger.info({ taskId, attempt, machineId, now: released.state }, 'attempt handed back');
    }
    return { released: !!released };
  }

  /** Records an attempt's result; `retryAt`: the policy queued the task again, to start no sooner. */
  async result(machineId: string, request: TaskResultRequest): Promise<{ recorded: true; retryAt?: Date }> {
    const result: TaskResult = {
      outcome: request.outcome,
      exitCode: request.exitCode ?? null,
      durationMs: request.durationMs,
      outputTail: request.outputTail,
      structured: request.structured,
      error: request.error,
    };
    const row = await this.tx.run(async (manager) => {
      const done = await this.tasks.complete(
        manager,
        machineId,
        request.taskId,
        request.attempt,
        request.outcome,
        result,
      );
      if (done?.state === 'queued') {
        const exit = result.exitCode === null ? '' : ` (exit ${result.exitCode})`;
        const wait = Math.max(0, Math.round(((done.not_before?.getTime() ?? Date.now()) - Date.now()) / 1000));
        const why = `attempt ${request.attempt} ${request.outcome}${exit}; tried again in ${wait} s`;
        return { result: done, outbox: [taskEvent(done, true, why)] };
      }
      return { result: done, outbox: done ? [taskEvent({ ...done, machineId })] : [] };
    });
    if (!row) {
      return this.stale('result', request.taskId, request.attempt);
    }
    this.metrics.transitions.inc({ state: row.state === 'queued' ? 'requeued' : row.state });
    return { recorded: true, retryAt: row.state === 'queued' ? (row.not_before ?? undefined) : undefined };
  }

  stale(operation: string, taskId: string, attempt: number): never {
    this.metrics.staleRequests.inc({ operation });
    this.logger.warn({ taskId, attempt, operation }, 'refused: the attempt is not current');
    throw new WaggleError(
      ErrorCode.Conflict,
      `attempt ${attempt} of task ${taskId} is not current (superseded, cancelled or finished)`,
      { taskId, attempt },
    );
  }

  /** The assignment message for a machine: a wake-up with everything needed to run the attempt. */
  assignment(row: TaskRow): TaskAssignment {
    return {
      v: 1,
      taskId: row.id,
      attempt: row.attempt,
      title: row.title,
      kind: row.kind,
      input: row.input,
      timeoutSeconds: row.timeout_seconds,
      // Names only: the agent asks the vault for the values, sealed to its own key.
      ...(Object.keys(row.secrets ?? {}).length ? { secrets: row.secrets } : {}),
    };
  }

  /** The task id a reference stands for: the id itself, or the one task whose id starts with it. */
  async resolve(ref: { taskId: string; visibleTo?: string }): Promise<string> {
    const range = UUID_PATTERN.test(ref.taskId) ? undefined : idPrefixRange(ref.taskId);
    return range ? oneMatch('task', ref.taskId, await this.views.idsInRange(range, ref.visibleTo, 6)) : ref.taskId;
  }

  /** The task, or 404. Read only when it is needed (a conditional write changed nothing). */
  async require(taskId: string, manager?: EntityManager): Promise<TaskRow> {
    const row = await this.tasks.findById(taskId, manager);
    if (!row) {
      throw WaggleError.notFound('task', taskId);
    }
    return row;
  }

  async view(row: TaskRow): Promise<TaskView> {
    const [attempts, help] = await Promise.all([this.views.attemptsOf([row.id]), this.help.ofParents([row.id])]);
    return this.views.toView(row, attempts.get(row.id) ?? [], help.get(row.id) ?? []);
  }
}
