import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import type {
  AssignmentRefRequest,
  AssignmentView,
  ClearAssignmentsRequest,
  ClearedReply,
  CreateAssignmentRequest,
  ListAssignmentsRequest,
  Page,
  ReassignRequest,
} from '@waggle/contracts';
import { ErrorCode, WaggleError } from '@waggle/contracts';
import { TransactionsService } from '@waggle/service-kit';

import { MachineLink } from '../sessions/machine-link';
import { AssignerService, assignmentEvent } from './assigner.service';
import type { AssignmentRow } from './assignment.repository';
import { AssignmentRepository, toAssignmentView } from './assignment.repository';

const DEFAULT_PRIORITY = 5;
const DEFAULT_TIMEOUT_SECONDS = 1800;

/** The assigner's API: queue, look, cancel, retry, reassign, clear. */
@Injectable()
export class AssignmentsService {
  constructor(
    private readonly repo: AssignmentRepository,
    private readonly tx: TransactionsService,
    private readonly link: MachineLink,
    private readonly assigner: AssignerService,
  ) {}

  async create(req: CreateAssignmentRequest): Promise<AssignmentView> {
    const target = req.target ? await this.target(req.target) : undefined;
    const row = await this.tx.run(async (manager) => {
      const created = await this.repo.insert(manager, {
        id: randomUUID(),
        prompt: req.prompt,
        priority: req.priority ?? DEFAULT_PRIORITY,
        target_machine: target?.machine ?? null,
        target_session: target?.session ?? null,
        capability: req.capability ?? null,
        labels: req.labels ?? [],
        timeout_seconds: req.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
        retries: req.retries ?? 0,
      });
      return { result: created, outbox: [assignmentEvent(created)] };
    });
    this.assigner.wake();
    return toAssignmentView(row);
  }

  list(req: ListAssignmentsRequest): Promise<Page<AssignmentView>> {
    return this.repo.list(req);
  }

  async get(req: AssignmentRefRequest): Promise<AssignmentView> {
    return toAssignmentView(await this.found(req.id));
  }

  cancel(req: AssignmentRefRequest): Promise<AssignmentView> {
    return this.move(req.id, ['queued', 'assigned', 'in_progress'], 'cancel', (manager, from) =>
      this.repo.transition(manager, req.id, from, 'cancelled', { reason: 'cancelled' }),
    );
  }

  retry(req: AssignmentRefRequest): Promise<AssignmentView> {
    return this.move(req.id, ['failed', 'cancelled'], 'retry', (manager, from) =>
      this.repo.transition(manager, req.id, from, 'queued', {
        reason: null,
        machine_id: null,
        machine_name: null,
        session: null,
        turn: null,
      }),
    );
  }

  async reassign(req: ReassignRequest): Promise<AssignmentView> {
    const target = req.target ? await this.target(req.target) : undefined;
    return this.move(
      req.id,
      ['queued', 'assigned', 'in_progress', 'failed', 'cancelled'],
      'reassign',
      (manager, from) =>
        this.repo.transition(manager, req.id, from, 'queued', {
          reason: null,
          machine_id: null,
          machine_name: null,
          session: null,
          turn: null,
          target_machine: target?.machine ?? null,
          target_session: target?.session ?? null,
        }),
    );
  }

  async clear(req: ClearAssignmentsRequest): Promise<ClearedReply> {
    return { cleared: await this.repo.clearFinished(req.olderThanSeconds ?? 0) };
  }

  /** `MACHINE:SESSION` with the machine as the registry names it (404 for an unknown machine). */
  private async target(target: string): Promise<{ machine: string; session: string }> {
    const colon = target.lastIndexOf(':');
    const machine = await this.link.resolve(target.slice(0, colon));
    return { machine: machine.name, session: target.slice(colon + 1) };
  }

  private async found(id: string): Promise<AssignmentRow> {
    const row = await this.repo.find(id);
    if (!row) {
      throw WaggleError.notFound('assignment', id);
    }
    return row;
  }

  private async move(
    id: string,
    from: AssignmentRow['state'][],
    what: string,
    change: (
      manager: Parameters<Parameters<TransactionsService['run']>[0]>[0],
      from: AssignmentRow['state'][],
    ) => Promise<AssignmentRow | undefined>,
  ): Promise<AssignmentView> {
    const row = await this.tx.run(async (manager) => {
      const next = await change(manager, from);
      return { result: next, outbox: next ? [assignmentEvent(next)] : [] };
    });
    if (!row) {
      const current = await this.found(id);
      throw new WaggleError(ErrorCode.Conflict, `cannot ${what} an assignment that is ${current.state}`);
    }
    this.assigner.wake();
    return toAssignmentView(row);
  }
}
