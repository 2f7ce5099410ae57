import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';

import type {
  HelpAnswer,
  HelpAskRequest,
  HelpQuestion,
  HelpStatusReply,
  HelpView,
  MachineView,
  TaskInput,
  TaskKind,
} from '@waggle/contracts';
import { MachineSubjects, WaggleError } from '@waggle/contracts';
import { request } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { event } from '@waggle/outbox';
import { LOGGER, NATS, TransactionsService } from '@waggle/service-kit';

import { TaskRouterMetrics } from '../infrastructure/task-router.metrics';
import { FleetService } from '../placement/fleet.service';
import { staticMismatch } from '../placement/placement';
import { HelpRepository } from './help.repository';
import { taskEvent } from './task-events';
import type { TaskRow } from './task.repository';
import { checkInput, TasksService } from './tasks.service';

/** How long a peer has to answer "can you help?". */
const ANSWER_TIMEOUT_MS = 2_000;
const DEFAULT_MAX_ETA_SECONDS = 600;

type Answer = HelpView['answers'][number];

/** The offer to take: one that can start at once, else the soonest within the limit. */
export function chooseOffer(answers: Answer[], maxEtaSeconds: number): Answer | undefined {
  return answers
    .filter((a) => a.accept && a.etaSeconds !== null && a.etaSeconds <= maxEtaSeconds)
    .reduce<Answer | undefined>((best, a) => (!best || a.etaSeconds! < best.etaSeconds! ? a : best), undefined);
}

/**
 * Help between machines: a running attempt asks; the router asks every online peer that
 * has what is needed, takes the first that can start now (else the soonest), and queues
 * a child task for it, linked to its parent, in one transaction with the record and events.
 */
@Injectable()
export class HelpService {
  constructor(
    private readonly tasks: TasksService,
    private readonly help: HelpRepository,
    private readonly fleet: FleetService,
    private readonly tx: TransactionsService,
    private readonly metrics: TaskRouterMetrics,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async ask(machineId: string, req: HelpAskRequest): Promise<HelpView> {
    const parent = await this.currentAttempt(machineId, req.taskId, req.attempt, 'help');
    const kind: TaskKind = req.kind ?? 'agent';
    const input: TaskInput = req.input ?? { prompt: req.reason };
    checkInput({ kind, input });
    const requires = { capabilities: req.requires.capabilities ?? [], labels: req.requires.labels ?? [] };
    const maxEtaSeconds = req.maxEtaSeconds ?? DEFAULT_MAX_ETA_SECONDS;
    const machines = await this.fleet.machines(true);
    const asker = machines.find((m) => m.id === machineId);
    const helpId = randomUUID();
    const question: HelpQuestion = {
      v: 1,
      helpId,
      from: asker?.name ?? machineId,
      reason: req.reason,
      kind,
      input,
      maxEtaSeconds,
    };
    const answers = await this.askPeers(
      machines.filter((m) => m.id !== machineId),
      { kind, input, requires },
      question,
    );
    const chosen = chooseOffer(answers, maxEtaSeconds);
    const from = { machineId, name: asker?.name ?? machineId };
    const base = {
      id: helpId,
      parent_task_id: parent.id,
      parent_attempt: parent.attempt,
      from_machine_id: from.machineId,
      from_name: from.name,
      reason: req.reason,
      requires,
      answers,
    };
    const requested = event(randomUUID(), 'task.help_requested', {
      helpId,
      taskId: parent.id,
      machineId,
      reason: req.reason,
    });

    if (!chosen) {
      const reasons = answers.length
        ? answers.map(
            (a) =>
              `${a.name}: ${a.reason ?? (a.accept ? `ETA ${a.etaSeconds} s is over ${maxEtaSeconds} s` : 'declined')}`,
          )
        : ['no other machines'];
      const view = await this.tx.run(async (manager) => {
        const stored = await this.help.insert(manager, {
          ...base,
          state: 'unanswered',
          helper_machine_id: null,
          helper_name: null,
          eta_seconds: null,
          child_task_id: null,
        });
        return {
          result: stored,
          outbox: [requested, event(randomUUID(), 'task.help_unanswered', { helpId, taskId: parent.id, reasons })],
        };
      });
      this.metrics.helpRequests.inc({ outcome: 'unanswered' });
      this.logger.info({ helpId, taskId: parent.id, reasons }, 'no peer could help');
      return view;
    }

    const child = await this.tasks.prepare({
      v: 1,
      title: `help for "${parent.title}"`.slice(0, 300),
      kind,
      input,
      target: chosen.machineId,
      requires,
      priority: Math.min(100, parent.priority + 1),
      timeoutSeconds: req.timeoutSeconds,
      parentTaskId: parent.id,
      createdBy: { kind: 'machine', machineId, name: from.name },
    });
    const view = await this.tx.run(async (manager) => {
      const childRow = await this.tasks.insert(manager, child);
      const stored = await this.help.insert(manager, {
        ...base,
        state: 'accepted',
        helper_machine_id: chosen.machineId,
        helper_name: chosen.name,
        eta_seconds: chosen.etaSeconds,
        child_task_id: childRow.id,
      });
      const accepted = event(randomUUID(), 'task.help_accepted', {
        helpId,
        taskId: parent.id,
        childTaskId: childRow.id,
        helperId: chosen.machineId,
        helper: chosen.name,
        etaSeconds: chosen.etaSeconds ?? 0,
      });
      return { result: stored, outbox: [requested, taskEvent(childRow), accepted] };
    });
    this.metrics.transitions.inc({ state: 'queued' });
    this.metrics.helpRequests.inc({ outcome: 'accepted' });
    this.logger.info(
      { helpId, taskId: parent.id, childTaskId: view.childTaskId, helper: chosen.name },
      'a peer took the help request',
    );
    return view;
  }

  /** The help request and its child task, for the attempt that asked. */
  async status(machineId: string, req: { taskId: string; attempt: number; helpId: string }): Promise<HelpStatusReply> {
    await this.currentAttempt(machineId, req.taskId, req.attempt, 'help-status');
    const help = await this.help.findOfParent(req.helpId, req.taskId);
    if (!help) {
      throw WaggleError.notFound('help request', req.helpId);
    }
    if (!help.childTaskId) {
      return { help, child: null };
    }
    const child = await this.tasks.require(help.childTaskId);
    return { help, child: { id: child.id, state: child.state, machine: child.machine_name, result: child.result } };
  }

  /** Only the attempt that is running now may ask (a zombie may not). */
  private async currentAttempt(
    machineId: string,
    taskId: string,
    attempt: number,
    operation: string,
  ): Promise<TaskRow> {
    const row = await this.tasks.require(taskId);
    if (row.state !== 'running' || row.attempt !== attempt || row.machine_id !== machineId) {
      this.tasks.stale(operation, taskId, attempt);
    }
    return row;
  }

  /** Asks every online peer that could run the work; a peer that cannot, or is off, is listed with why. */
  private async askPeers(
    peers: MachineView[],
    shape: Parameters<typeof staticMismatch>[0],
    question: HelpQuestion,
  ): Promise<Answer[]> {
    return Promise.all(
      peers.map(async (peer): Promise<Answer> => {
        const mismatch = staticMismatch(shape, peer);
        const not = (reason: string): Answer => ({
          machineId: peer.id,
          name: peer.name,
          accept: false,
          etaSeconds: null,
          reason,
        });
        if (mismatch.length) {
          return not(mismatch.join('; '));
        }
        if (peer.status !== 'online') {
          return not(peer.status);
        }
        try {
          const answer = await request<HelpAnswer>(
            this.nc,
            MachineSubjects.helpQuestion(peer.id),
            question,
            ANSWER_TIMEOUT_MS,
          );
          return {
            machineId: peer.id,
            name: peer.name,
            accept: answer.accept === true,
            etaSeconds: Number.isInteger(answer.etaSeconds) ? answer.etaSeconds : null,
            reason: answer.reason,
          };
        } catch (error) {
          return not(`did not answer (${(error as Error).message})`);
        }
      }),
    );
  }
}
