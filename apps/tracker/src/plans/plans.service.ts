import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';

import type {
  AcceptPlanReply,
  AcceptPlanRequest,
  PlanRequest,
  PlanView,
  ProjectNotes,
  ProjectNotesRequest,
} from '@waggle/contracts';
import { CLOSED_STATUSES, ErrorCode, LlmRpc, MachineSubjects, WaggleError } from '@waggle/contracts';
import { request, RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, NATS, TransactionsService } from '@waggle/service-kit';

import type { CheckoutRow } from '../checkouts/checkout.repository';
import { CheckoutRepository } from '../checkouts/checkout.repository';
import { actorName, iso } from '../common/paging';
import { ItemRepository } from '../items/item.repository';
import { ItemsService, refOf } from '../items/items.service';
import { MilestoneRepository } from '../milestones/milestone.repository';
import { MilestonesService } from '../milestones/milestones.service';
import { ProjectsService } from '../projects/projects.service';
import { TrackerConfig } from '../tracker.config';
import { parsePlan, planMessages } from './plan-prompt';
import type { PlanRow } from './plan.repository';
import { PlanRepository } from './plan.repository';

const NOTES_TIMEOUT_MS = 20_000;
const LLM_TIMEOUT_MS = 180_000;

/**
 * Plans a milestone with an LLM: a machine that has the project checked out reads its
 * README and TODO/FIXME comments, the tracker adds the open bugs, the LLM gateway proposes
 * a milestone and features. The proposal is stored and shown; nothing is created until a
 * person accepts some of its features (the rest are dropped).
 */
@Injectable()
export class PlansService {
  constructor(
    private readonly plans: PlanRepository,
    private readonly checkouts: CheckoutRepository,
    private readonly projects: ProjectsService,
    private readonly items: ItemRepository,
    private readonly itemsService: ItemsService,
    private readonly milestones: MilestoneRepository,
    private readonly milestonesService: MilestonesService,
    private readonly tx: TransactionsService,
    private readonly hub: RpcClient,
    private readonly config: TrackerConfig,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async create(req: PlanRequest): Promise<PlanView> {
    const project = await this.projects.find(req.project);
    if (!project.remote_key) {
      throw new WaggleError(
        ErrorCode.Conflict,
        `project "${project.key}" has no repository: no machine has it checked out`,
      );
    }
    const checkouts = await this.checkouts.list({ remoteKey: project.remote_key, machine: req.machine, limit: 20 });
    if (!checkouts.length) {
      throw new WaggleError(
        ErrorCode.Conflict,
        `no machine${req.machine ? ` named ${req.machine}` : ''} reports a checkout of ${project.key} (start one with \`waggle agent --source DIR\`)`,
      );
    }
    const { notes, from } = await this.readNotes(project.key, checkouts);
    const openBugs = (await this.items.list({ projectId: project.id, kind: 'bug', limit: 100 }))
      .filter((b) => !CLOSED_STATUSES.has(b.status))
      .map((b) => ({ ref: refOf(b), title: b.title, severity: b.severity }));
    const maxFeatures = req.maxFeatures ?? 10;
    const reply = await this.hub.call(
      LlmRpc.complete,
      {
        v: 1,
        api: 'openai',
        body: {
          model: this.config.WAGGLE_TRACKER_PLAN_MODEL,
          max_tokens: 4_000,
          messages: planMessages({
            project: { name: project.name, description: project.description, repository: project.repository },
            readme: notes.readme,
            todos: notes.todos,
            openBugs,
            milestone: req.milestone,
            maxFeatures,
          }),
        },
        caller: { kind: 'service', name: 'tracker' },
      },
      LLM_TIMEOUT_MS,
    );
    if (reply.status !== 200) {
      throw new WaggleError(
        ErrorCode.Unavailable,
        `the LLM gateway answered ${reply.status}: ${JSON.stringify(reply.body).slice(0, 300)}`,
      );
    }
    const content = (reply.body as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
    let proposal: ReturnType<typeof parsePlan>;
    try {
      proposal = parsePlan(typeof content === 'string' ? content : '', maxFeatures);
    } catch (error) {
      throw new WaggleError(ErrorCode.Unavailable, `the model's answer was not a plan: ${(error as Error).message}`);
    }
    const row = await this.plans.insert({
      id: randomUUID(),
      project_id: project.id,
      proposal: {
        milestone: proposal.milestone,
        features: proposal.features.map((f, index) => ({ index, ...f })),
      },
      sources: {
        machine: from.machine_name,
        path: from.path,
        todos: notes.todos.length,
        openBugs: openBugs.length,
        readme: notes.readme !== null,
      },
      created_by: actorName(req.actor),
    });
    this.logger.info({ project: project.key, planId: row.id, features: proposal.features.length }, 'plan proposed');
    return this.view(row);
  }

  async get(id: string): Promise<PlanView> {
    return this.view(await this.find(id));
  }

  async accept(req: AcceptPlanRequest): Promise<AcceptPlanReply> {
    const plan = await this.find(req.planId);
    const { features } = plan.proposal;
    const wanted = [...new Set(req.accept)].sort((a, b) => a - b);
    const unknown = wanted.filter((i) => i >= features.length);
    if (unknown.length) {
      throw WaggleError.invalid(`the plan has features 0..${features.length - 1}, not ${unknown.join(', ')}`, [
        { field: 'accept', errors: [`indexes must be below ${features.length}`] },
      ]);
    }
    const who = actorName(req.actor);
    const made = await this.tx.run(async (manager) => {
      if (!(await this.plans.decide(manager, plan.id))) {
        throw new WaggleError(ErrorCode.Conflict, `plan ${plan.id} was accepted already`);
      }
      if (!wanted.length) {
        return { result: { milestoneId: null as string | null, itemIds: [] as string[] }, outbox: [] };
      }
      const milestoneId = randomUUID();
      await this.milestones.insert(
        manager,
        {
          id: milestoneId,
          project_id: plan.project_id,
          title: plan.proposal.milestone.title,
          description: plan.proposal.milestone.description,
          target_date: null,
        },
        undefined,
      );
      const itemIds: string[] = [];
      const outbox = [];
      for (const index of wanted) {
        const feature = features[index]!;
        const row = await this.items.insert(manager, {
          id: randomUUID(),
          project_id: plan.project_id,
          kind: 'feature',
          title: feature.title,
          body: feature.spec,
          status: 'planned',
          priority: feature.priority,
          severity: null,
          steps: null,
          environment: null,
          milestone_id: milestoneId,
          created_by: who,
        });
        await this.items.addHistory(manager, row.id, who, [
          { field: 'created', from: null, to: 'planned' },
          { field: 'plan', from: null, to: plan.id },
        ]);
        itemIds.push(row.id);
        outbox.push(this.itemsService.changed(row));
      }
      return { result: { milestoneId: milestoneId, itemIds }, outbox };
    });
    return {
      milestone: made.milestoneId ? await this.milestonesService.get(made.milestoneId) : null,
      features: await Promise.all(made.itemIds.map((id) => this.itemsService.get('feature', id))),
      dropped: features.length - wanted.length,
    };
  }

  /** The first machine with a checkout that answers reads it. */
  private async readNotes(
    projectKey: string,
    checkouts: CheckoutRow[],
  ): Promise<{ notes: ProjectNotes; from: CheckoutRow }> {
    const failures: string[] = [];
    for (const checkout of checkouts) {
      try {
        const notes = await request<ProjectNotes>(
          this.nc,
          MachineSubjects.projectNotes(checkout.machine_id),
          { v: 1, path: checkout.path } satisfies ProjectNotesRequest,
          NOTES_TIMEOUT_MS,
        );
        return {
          notes: { readme: notes.readme ?? null, todos: Array.isArray(notes.todos) ? notes.todos : [] },
          from: checkout,
        };
      } catch (error) {
        failures.push(`${checkout.machine_name}: ${(error as Error).message}`);
      }
    }
    throw new WaggleError(
      ErrorCode.Unavailable,
      `no machine with a checkout of ${projectKey} answered (${failures.join('; ')})`.slice(0, 1000),
    );
  }

  private async find(id: string): Promise<PlanRow> {
    const row = await this.plans.findById(id);
    if (!row) {
      throw WaggleError.notFound('plan', id);
    }
    return row;
  }

  private view(row: PlanRow): PlanView {
    return {
      id: row.id,
      projectId: row.project_id,
      state: row.state,
      milestone: row.proposal.milestone,
      features: row.proposal.features,
      sources: row.sources,
      createdAt: iso(row.created_at)!,
    };
  }
}
