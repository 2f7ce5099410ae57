import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { EntityManager } from 'typeorm';

import type { MachineView, WaitingReason } from '@waggle/contracts';
import { Consumers, Streams } from '@waggle/contracts';
import { isNotFound, publishMachine } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import type { OutboxEntry } from '@waggle/outbox';
import { machineEntry } from '@waggle/outbox';
import { singleRow } from '@waggle/persistence';
import { LOGGER, NATS, TransactionsService } from '@waggle/service-kit';

import { TaskRouterMetrics } from '../infrastructure/task-router.metrics';
import { FleetService } from '../placement/fleet.service';
import { place } from '../placement/placement';
import { TaskRouterConfig } from '../task-router.config';
import { taskEvent } from './task-events';
import type { TaskRow } from './task.repository';
import { TaskRepository } from './task.repository';
import { TasksService } from './tasks.service';

const PLACEMENT_BATCH = 500;
/** A running task whose agent never reports is marked timed out this long after its timeout. */
const OVERDUE_GRACE_SECONDS = 30;
/** How often targeted tasks are checked for a revoked target. */
const ORPHAN_CHECK_MS = 10_000;
/** How often assigned tasks are checked against what JetStream holds for their machines. */
const ASSIGNMENT_CHECK_MS = 5_000;
/** An assignment this old has been relayed: if JetStream does not hold it, it was lost. */
const ASSIGNMENT_SETTLED_SECONDS = 5;

/**
 * The loop that moves tasks: expired leases back to the queue (attempt raised) or to
 * failure, and queued tasks onto machines. Every change is a conditional write, so several
 * replicas can run it; placement itself runs one replica at a time (advisory lock) so
 * slot counting is not raced.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private readonly wakeups = new Set<NodeJS.Timeout>();
  private running = false;
  private again = false;
  private orphansCheckedAt = 0;
  private assignmentsCheckedAt = 0;
  private expiredAt = 0;

  constructor(
    private readonly tasks: TaskRepository,
    private readonly service: TasksService,
    private readonly fleet: FleetService,
    private readonly tx: TransactionsService,
    private readonly config: TaskRouterConfig,
    private readonly metrics: TaskRouterMetrics,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => this.kick(), this.config.WAGGLE_SCHEDULER_INTERVAL_MS);
    this.kick();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
    for (const timer of this.wakeups) {
      clearTimeout(timer);
    }
  }

  /** Run a pass at `at` (a retry's backoff ends then); the interval's passes would find it too, a little later. */
  kickAt(at: Date): void {
    const timer = setTimeout(() => {
      this.wakeups.delete(timer);
      this.kick();
    }, Math.max(0, at.getTime() - Date.now()));
    this.wakeups.add(timer);
  }

  /** Run a pass now (after a task was created or finished). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.pass()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'scheduler pass failed; will retry'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async pass(): Promise<void> {
    // Leases are seconds long: looking for expired ones once per interval is enough, however
    // many creates and results kick a pass in between (each look is a transaction).
    if (Date.now() - this.expiredAt >= this.config.WAGGLE_SCHEDULER_INTERVAL_MS) {
      this.expiredAt = Date.now();
      await this.expire();
    }
    if (Date.now() - this.orphansCheckedAt > ORPHAN_CHECK_MS) {
      await this.failOrphans();
    }
    if (Date.now() - this.assignmentsCheckedAt > ASSIGNMENT_CHECK_MS) {
      await this.resendLostAssignments();
    }
    await this.placeQueued();
  }

  /**
   * The reconciler of assignments, as the registry has one for messages: a machine whose
   * queue in JetStream holds fewer assignments than Postgres says it has unclaimed (the store
   * was lost, or the stream purged) gets them all again. Their Nats-Msg-Ids are the ones they
   * had, and a repeat that does reach the machine fails its claim: each attempt runs once.
   */
  private async resendLostAssignments(): Promise<void> {
    this.assignmentsCheckedAt = Date.now();
    const waiting = await this.tasks.assignedByMachine(ASSIGNMENT_SETTLED_SECONDS);
    if (!waiting.length) {
      return;
    }
    const jsm = await this.nc.jetstreamManager();
    for (const { machineId, count } of waiting) {
      const held = await jsm.consumers.info(Streams.tasks.name, Consumers.tasks(machineId)).then(
        (info) => info.num_pending + info.num_ack_pending,
        // No consumer (lost with the store; the machine's next hello makes it): nothing is held for it.
        (error: unknown) => {
          if (!isNotFound(error)) {
            throw error;
          }
          return 0;
        },
      );
      if (held >= count) {
        continue;
      }
      const rows = await this.tasks.assignedTo(machineId);
      await this.tx.run(() =>
        Promise.resolve({ result: undefined, outbox: rows.map((row) => this.assignmentEntry(row, machineId)) }),
      );
      this.logger.warn(
        { machineId, assigned: count, held, resent: rows.length },
        're-sent task assignments missing from JetStream',
      );
    }
  }

  /** A task targeted at a machine that was revoked since can never run: it fails, with the reason. */
  private async failOrphans(): Promise<void> {
    this.orphansCheckedAt = Date.now();
    // The fleet is asked outside any transaction: no connection is held across a NATS round trip.
    const targets = await this.tasks.waitedForTargets();
    if (!targets.length) {
      return;
    }
    const known = new Set((await this.fleet.machines(true)).map((m) => m.id));
    const gone = targets.filter((id) => !known.has(id));
    if (!gone.length) {
      return;
    }
    const failed = await this.tx.run(async (manager) => {
      const rows = await this.tasks.failTargeting(manager, gone, 'the target machine was revoked');
      return { result: rows, outbox: rows.map((t) => taskEvent(t, false, 'the target machine was revoked')) };
    });
    if (failed.length) {
      this.metrics.transitions.inc({ state: 'failed' }, failed.length);
      this.logger.warn({ tasks: failed.map((t) => t.id) }, 'tasks failed: their target machine was revoked');
    }
  }

  private async expire(): Promise<void> {
    const { lost, overdue } = await this.tx.run(async (manager) => {
      const lost = await this.tasks.expireLeases(manager);
      const overdue = await this.tasks.expireOverdue(manager, OVERDUE_GRACE_SECONDS);
      const outbox = [
        ...lost.map((t) => taskEvent(t, t.state === 'queued', `attempt ${t.attempt} lost its lease`)),
        ...overdue.map((t) => taskEvent(t)),
      ];
      return { result: { lost, overdue }, outbox };
    });
    for (const t of lost) {
      this.metrics.transitions.inc({ state: t.state === 'queued' ? 'requeued' : t.state });
    }
    for (const t of overdue) {
      this.metrics.transitions.inc({ state: 'timed_out' });
      if (t.machineId) {
        publishMachine(this.nc, 'cancel', t.machineId, { taskId: t.id, attempt: t.attempt });
      }
    }
    if (lost.length) {
      this.logger.warn(
        { tasks: lost.map((t) => ({ id: t.id, attempt: t.attempt, machineId: t.machineId, now: t.state })) },
        'leases expired',
      );
    }
  }

  private async placeQueued(): Promise<void> {
    const assigned = await this.tx.run(async (manager) => {
      const lock = await manager.query<{ locked: boolean }[]>(
        `SELECT pg_try_advisory_xact_lock(hashtext('task_router.placement')) AS locked`,
      );
      if (!singleRow(lock, 'placement lock').locked) {
        return { result: 0, outbox: [] };
      }
      return this.placeLocked(manager);
    });
    if (assigned) {
      this.metrics.transitions.inc({ state: 'assigned' }, assigned);
    }
  }

  private async placeLocked(manager: EntityManager): Promise<{ result: number; outbox: OutboxEntry[] }> {
    const queued = await this.tasks.queued(PLACEMENT_BATCH, manager);
    if (!queued.length) {
      return { result: 0, outbox: [] };
    }
    // The fleet is asked for only when there is something to place: an idle router stays quiet.
    const machines = await this.fleet.machines();
    const active = await this.tasks.activeCounts(manager);
    const outbox: OutboxEntry[] = [];
    const waits: { id: string; waiting: WaitingReason }[] = [];
    const byId = new Map(machines.map((m) => [m.id, m]));
    let count = 0;
    for (const task of queued) {
      let machine: MachineView | undefined;
      let claimWindow: number | null = this.config.WAGGLE_TASK_LEASE_SECONDS * 2;
      if (task.target_machine_id) {
        machine = byId.get(task.target_machine_id);
        if (!machine) {
          waits.push({ id: task.id, waiting: { summary: 'the target machine was revoked', candidates: [] } });
          continue;
        }
        // Waits in the machine's durable queue for as long as it is off.
        claimWindow = null;
      } else {
        const decision = place({ kind: task.kind, input: task.input, requires: task.requires }, machines, active);
        if ('waiting' in decision) {
          waits.push({ id: task.id, waiting: decision.waiting });
          continue;
        }
        machine = decision.machine;
      }
      const row = await this.tasks.assign(manager, task, { machineId: machine.id, name: machine.name }, claimWindow);
      if (!row) {
        continue;
      }
      active.set(machine.id, (active.get(machine.id) ?? 0) + 1);
      outbox.push(this.assignmentEntry(row, machine.id), taskEvent({ ...row, machineId: machine.id }));
      count++;
    }
    await this.tasks.setWaiting(manager, waits);
    return { result: count, outbox };
  }

  private assignmentEntry(row: TaskRow, machineId: string): OutboxEntry {
    return machineEntry('tasks', machineId, this.service.assignment(row), `task-${row.id}-${row.attempt}`);
  }
}
