import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AssignmentState } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import type { OutboxEntry } from '@waggle/outbox';
import { event } from '@waggle/outbox';
import { LOGGER, TransactionsService } from '@waggle/service-kit';

import { SessionsConfig } from '../sessions.config';
import { MachineLink } from '../sessions/machine-link';
import { SessionSignals } from '../sessions/session-signals';
import type { SessionRow } from '../sessions/session.repository';
import { SessionRepository } from '../sessions/session.repository';
import type { ActiveAssignment, AssignmentRow } from './assignment.repository';
import { AssignmentRepository } from './assignment.repository';

/** The event announcing an assignment's state. */
export function assignmentEvent(row: AssignmentRow): OutboxEntry {
  const type: `assignment.${AssignmentState}` = `assignment.${row.state}`;
  return event(randomUUID(), type, {
    assignmentId: row.id,
    state: row.state,
    attempts: row.attempts,
    machineId: row.machine_id ?? undefined,
    session: row.machine_name && row.session ? `${row.machine_name}:${row.session}` : undefined,
    reason: row.reason ?? undefined,
  });
}

/** Whether a session may take this assignment: its target, its CLI, its labels. */
export function fits(a: AssignmentRow, s: SessionRow): boolean {
  if (a.target_machine && a.target_session) {
    const machine = a.target_machine === s.machine_name || a.target_machine === s.machine_id;
    if (!machine || a.target_session !== s.name) {
      return false;
    }
  }
  if (a.capability && a.capability !== s.cli) {
    return false;
  }
  return a.labels.every((label) => s.labels.includes(label));
}

/**
 * The assigner: types each queued prompt into the next idle session that fits and follows
 * it by the session's turn (the count of inputs the agent sent it): assigned → in progress
 * once the session works on that turn → completed once it is back at its prompt; failed (or
 * queued again while retries remain) when it times out or the session exits or goes away.
 *
 * A pass runs when something changed (a create, a machine's report) and every
 * WAGGLE_ASSIGNER_INTERVAL_MS for timeouts; one pass at a time in the process, one replica
 * at a time under an advisory lock.
 */
@Injectable()
export class AssignerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private unlisten?: () => void;
  private stopped = false;

  constructor(
    private readonly assignments: AssignmentRepository,
    private readonly sessions: SessionRepository,
    private readonly link: MachineLink,
    private readonly tx: TransactionsService,
    private readonly signals: SessionSignals,
    private readonly config: SessionsConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    this.unlisten = this.signals.onChange(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.config.WAGGLE_ASSIGNER_INTERVAL_MS);
    this.wake();
  }

  async onApplicationShutdown() {
    this.stopped = true;
    clearInterval(this.timer);
    this.unlisten?.();
    await this.running;
  }

  /** Runs a pass now, or right after the one running. */
  wake(): void {
    if (this.stopped) {
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'assigner pass failed; will run again'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async pass(): Promise<void> {
    const outbox: OutboxEntry[] = [];
    // The changes and their events commit together, in one transaction holding the assigner's lock.
    await this.tx.run(async (manager) => {
      if (await this.assignments.lock(manager)) {
        await this.follow(manager, outbox);
        await this.place(manager, outbox);
      }
      return { result: undefined, outbox };
    });
  }

  /** Moves assignments in flight along with their sessions. */
  private async follow(manager: EntityManager, outbox: OutboxEntry[]): Promise<void> {
    for (const a of await this.assignments.findActive(manager)) {
      const onTurn = a.session_turn !== null && a.turn !== null && a.session_turn >= a.turn;
      let next: AssignmentRow | undefined;
      if (a.session_state === null) {
        next = await this.failOrRetry(manager, a, 'the session is gone');
      } else if (a.session_state === 'exited') {
        next = await this.failOrRetry(manager, a, 'the session exited');
      } else if (a.timed_out) {
        next = await this.failOrRetry(manager, a, `timed out after ${a.timeout_seconds} s`);
      } else if (onTurn && (a.session_state === 'idle' || a.session_state === 'finished')) {
        next = await this.assignments.transition(manager, a.id, ['assigned', 'in_progress'], 'completed');
      } else if (onTurn && a.state === 'assigned') {
        next = await this.assignments.transition(manager, a.id, ['assigned'], 'in_progress');
      }
      if (next) {
        outbox.push(assignmentEvent(next));
      }
    }
  }

  private async failOrRetry(manager: EntityManager, a: ActiveAssignment, reason: string) {
    if (a.attempts <= a.retries) {
      return this.assignments.transition(manager, a.id, ['assigned', 'in_progress'], 'queued', {
        reason,
        machine_id: null,
        machine_name: null,
        session: null,
        turn: null,
      });
    }
    return this.assignments.transition(manager, a.id, ['assigned', 'in_progress'], 'failed', { reason });
  }

  /** Types queued prompts, highest priority first, into sessions at their prompt that fit. */
  private async place(manager: EntityManager, outbox: OutboxEntry[]): Promise<void> {
    const queued = await this.assignments.findQueued(manager);
    if (!queued.length) {
      return;
    }
    const free = await this.sessions.findAvailable(manager);
    for (const a of queued) {
      const index = free.findIndex((s) => fits(a, s));
      const session = free[index];
      if (!session) {
        continue;
      }
      free.splice(index, 1);
      let turn: number;
      try {
        ({ turn } = await this.link.ask({ id: session.machine_id, name: session.machine_name }, 'send', {
          v: 1,
          name: session.name,
          text: a.prompt,
          enter: true,
        }));
      } catch (error) {
        this.logger.warn(
          { err: error, assignment: a.id, machine: session.machine_name, session: session.name },
          'could not type an assignment into its session; it stays queued',
        );
        continue;
      }
      const next = await this.assignments.transition(manager, a.id, ['queued'], 'assigned', {
        machine_id: session.machine_id,
        machine_name: session.machine_name,
        session: session.name,
        turn,
        reason: null,
        attempts: 'increment',
        assigned: true,
      });
      if (next) {
        this.logger.info(
          { assignment: a.id, machine: session.machine_name, session: session.name },
          'assignment typed in',
        );
        outbox.push(assignmentEvent(next));
      }
    }
  }
}
