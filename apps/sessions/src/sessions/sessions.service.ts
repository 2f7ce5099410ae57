import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import type {
  AttentionItemView,
  CaptureSessionRequest,
  CreateSessionRequest,
  ListAttentionRequest,
  ListSessionsRequest,
  Page,
  ResizeSessionRequest,
  ScreenView,
  SendToSessionRequest,
  SentReply,
  SessionCli,
  SessionRefRequest,
  SessionReport,
  SessionView,
  UnwatchSessionRequest,
  WatchedSession,
  WatchSessionRequest,
} from '@waggle/contracts';
import { ATTENTION_STATES, MachineSubjects, SESSION_CLIS, WaggleError } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import type { OutboxEntry } from '@waggle/outbox';
import { event } from '@waggle/outbox';
import { LOGGER, TransactionsService } from '@waggle/service-kit';

import type { MachineRef } from './machine-link';
import { MachineLink } from './machine-link';
import { SessionSignals } from './session-signals';
import type { ReportChanges } from './session.repository';
import { SessionRepository, toSessionView } from './session.repository';

const DEFAULT_WIDTH = 160;
const DEFAULT_HEIGHT = 48;

/** The CLI a command runs, by its program's name (`/usr/bin/claude` → claude); a shell is a shell. */
export function cliOf(command: string[]): SessionCli {
  const program = (command[0] ?? '').split('/').pop() ?? '';
  if ((SESSION_CLIS as readonly string[]).includes(program)) {
    return program as SessionCli;
  }
  return ['bash', 'sh', 'zsh', 'fish', 'dash'].includes(program) ? 'shell' : 'other';
}

/** The events announcing what a report changed. */
export function sessionEvents(machine: MachineRef, changes: ReportChanges): OutboxEntry[] {
  const entries: OutboxEntry[] = [];
  for (const { row, previous } of changes.changed) {
    const data = {
      machineId: machine.id,
      machine: machine.name,
      session: row.name,
      state: row.state,
      previous,
      excerpt: row.excerpt,
    };
    entries.push(event(randomUUID(), 'session.state_changed', data));
    if (ATTENTION_STATES.includes(row.state)) {
      entries.push(event(randomUUID(), 'attention.raised', data));
    }
  }
  for (const session of changes.removed) {
    entries.push(event(randomUUID(), 'session.removed', { machineId: machine.id, machine: machine.name, session }));
  }
  return entries;
}

/**
 * Sessions across machines. What the hub lists comes from the machines' reports (kept in
 * Postgres, so an asleep machine's sessions still show); what acts on a session goes to the
 * machine's own agent, which alone touches its tmux.
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly repo: SessionRepository,
    private readonly link: MachineLink,
    private readonly tx: TransactionsService,
    private readonly signals: SessionSignals,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async list(req: ListSessionsRequest): Promise<Page<SessionView>> {
    const machine = req.machine ? await this.link.resolve(req.machine) : undefined;
    return this.repo.list(req, machine?.id);
  }

  async get(req: SessionRefRequest): Promise<SessionView> {
    const machine = await this.link.resolve(req.machine);
    const row = await this.repo.find(machine.id, req.session);
    if (!row) {
      throw WaggleError.notFound('session', `${machine.name}:${req.session}`);
    }
    return toSessionView(row);
  }

  async create(req: CreateSessionRequest): Promise<SessionView> {
    const machine = await this.link.resolve(req.machine);
    const report = await this.link.ask(machine, 'create', {
      v: 1,
      name: req.name,
      command: req.command,
      cwd: req.cwd,
      cli: req.cli ?? cliOf(req.command),
      labels: req.labels ?? [],
      width: req.width ?? DEFAULT_WIDTH,
      height: req.height ?? DEFAULT_HEIGHT,
      hooks: req.hooks,
    });
    this.logger.info({ machine: machine.name, session: req.name }, 'session created');
    return this.record(machine, report);
  }

  async send(req: SendToSessionRequest): Promise<SentReply> {
    if (!req.text && !req.keys?.length && !req.enter) {
      throw WaggleError.invalid('nothing to send: give text, keys or enter', [
        { field: 'text', errors: ['text, keys or enter is required'] },
      ]);
    }
    const machine = await this.link.resolve(req.machine);
    return this.link.ask(machine, 'send', {
      v: 1,
      name: req.session,
      text: req.text,
      keys: req.keys,
      enter: req.enter,
    });
  }

  async capture(req: CaptureSessionRequest): Promise<ScreenView> {
    const machine = await this.link.resolve(req.machine);
    return this.link.ask(machine, 'capture', { v: 1, name: req.session, scrollback: req.scrollback });
  }

  /** Starts or renews a watcher's lease on a session's output; answers where the output arrives. */
  async watch(req: WatchSessionRequest): Promise<WatchedSession> {
    const machine = await this.link.resolve(req.machine);
    const reply = await this.link.ask(machine, 'watch', {
      v: 1,
      name: req.session,
      watcher: req.watcher,
      leaseMs: req.leaseMs,
    });
    return this.watched(machine, req.session, reply.watching);
  }

  async unwatch(req: UnwatchSessionRequest): Promise<WatchedSession> {
    const machine = await this.link.resolve(req.machine);
    const reply = await this.link.ask(machine, 'unwatch', { v: 1, name: req.session, watcher: req.watcher });
    return this.watched(machine, req.session, reply.watching);
  }

  private watched(machine: MachineRef, session: string, watching: boolean): WatchedSession {
    return {
      machineId: machine.id,
      machine: machine.name,
      session,
      subject: MachineSubjects.sessionOutput(machine.id, session),
      watching,
    };
  }

  async resize(req: ResizeSessionRequest): Promise<SessionView> {
    const machine = await this.link.resolve(req.machine);
    const report = await this.link.ask(machine, 'resize', {
      v: 1,
      name: req.session,
      width: req.width,
      height: req.height,
    });
    return this.record(machine, report);
  }

  async kill(req: SessionRefRequest): Promise<{ killed: true }> {
    const machine = await this.link.resolve(req.machine);
    await this.link.ask(machine, 'kill', { v: 1, name: req.session });
    await this.tx.run(async (manager) => {
      const removed = await this.repo.remove(manager, machine.id, req.session);
      return {
        result: undefined,
        outbox: removed
          ? [
              event(randomUUID(), 'session.removed', {
                machineId: machine.id,
                machine: machine.name,
                session: req.session,
              }),
            ]
          : [],
      };
    });
    this.signals.changed(machine.id);
    return { killed: true };
  }

  async listAttention(req: ListAttentionRequest): Promise<Page<AttentionItemView>> {
    return this.repo.listAttention(req.limit, req.cursor);
  }

  async dismiss(req: SessionRefRequest): Promise<{ dismissed: true }> {
    const machine = await this.link.resolve(req.machine);
    if (!(await this.repo.dismiss(machine.id, req.session))) {
      throw WaggleError.notFound('session', `${machine.name}:${req.session}`);
    }
    return { dismissed: true };
  }

  /** A machine's report of every session it has: stored, announced, and the assigner woken. */
  async report(machineId: string, sessions: SessionReport[]): Promise<{ recorded: number }> {
    const machine = { id: machineId, name: await this.link.nameOf(machineId) };
    await this.tx.run(async (manager) => {
      const changes = await this.repo.applyReport(manager, machine.id, machine.name, sessions);
      return { result: undefined, outbox: sessionEvents(machine, changes) };
    });
    this.signals.changed(machine.id);
    return { recorded: sessions.length };
  }

  /** One session as the machine answered (create, resize). */
  private async record(machine: MachineRef, report: SessionReport): Promise<SessionView> {
    const row = await this.tx.run(async (manager) => {
      const changes = await this.repo.applyReport(manager, machine.id, machine.name, [report], false);
      return {
        result: await this.repo.find(machine.id, report.name, manager),
        outbox: sessionEvents(machine, changes),
      };
    });
    this.signals.changed(machine.id);
    if (!row) {
      throw WaggleError.notFound('session', `${machine.name}:${report.name}`);
    }
    return toSessionView(row);
  }
}
