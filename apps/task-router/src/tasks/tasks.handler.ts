import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';

import {
  CheckPlacementBody,
  CreateTaskRequest,
  HelpAskRequest,
  HelpStatusRequest,
  ListTasksRequest,
  StatsRequest,
  TaskLeaseRequest,
  TaskLogsRequest,
  TaskRefRequest,
  TaskResultRequest,
  TaskRouterRpc,
} from '@waggle/contracts';
import { HandleMachine, HandleRpc, machineOf } from '@waggle/service-kit';

import { HelpService } from './help.service';
import { SchedulerService } from './scheduler.service';
import { TasksService } from './tasks.service';

/** Requests of people (through the gateway) and of machines about their tasks; creates and results wake the scheduler. */
@Controller()
export class TasksHandler {
  constructor(
    private readonly tasks: TasksService,
    private readonly scheduler: SchedulerService,
    private readonly help: HelpService,
  ) {}

  @HandleRpc(TaskRouterRpc.stats)
  stats(req: StatsRequest) {
    return this.tasks.overview(new Date(req.since));
  }

  @HandleRpc(TaskRouterRpc.create)
  async create(req: CreateTaskRequest) {
    const task = await this.tasks.create(req);
    this.scheduler.kick();
    return task;
  }

  @HandleRpc(TaskRouterRpc.checkPlacement)
  checkPlacement(req: CheckPlacementBody) {
    return this.tasks.checkPlacement(req);
  }

  @HandleRpc(TaskRouterRpc.list)
  list(req: ListTasksRequest) {
    return this.tasks.list(req);
  }

  @HandleRpc(TaskRouterRpc.get)
  async get(req: TaskRefRequest) {
    return this.tasks.get(await this.tasks.resolve(req));
  }

  @HandleRpc(TaskRouterRpc.cancel)
  async cancel(req: TaskRefRequest) {
    return this.tasks.cancel(await this.tasks.resolve(req));
  }

  @HandleRpc(TaskRouterRpc.retry)
  async retry(req: TaskRefRequest) {
    const task = await this.tasks.retry(await this.tasks.resolve(req));
    this.scheduler.kick();
    return task;
  }

  @HandleRpc(TaskRouterRpc.logs)
  async logs(req: TaskLogsRequest) {
    return this.tasks.logs({ ...req, taskId: await this.tasks.resolve(req) });
  }

  @HandleMachine('taskClaim')
  claim(@Payload() req: TaskLeaseRequest, @Ctx() context: NatsContext) {
    return this.tasks.claim(machineOf(context), req.taskId, req.attempt);
  }

  @HandleMachine('taskRenew')
  renew(@Payload() req: TaskLeaseRequest, @Ctx() context: NatsContext) {
    return this.tasks.renew(machineOf(context), req.taskId, req.attempt);
  }

  @HandleMachine('taskResult')
  async result(@Payload() req: TaskResultRequest, @Ctx() context: NatsContext) {
    const { retryAt } = await this.tasks.result(machineOf(context), req);
    this.scheduler.kick();
    if (retryAt) {
      this.scheduler.kickAt(retryAt);
    }
    return { recorded: true as const };
  }

  @HandleMachine('taskRelease')
  async release(@Payload() req: TaskLeaseRequest, @Ctx() context: NatsContext) {
    const released = await this.tasks.release(machineOf(context), req.taskId, req.attempt);
    this.scheduler.kick();
    return released;
  }

  @HandleMachine('helpAsk')
  async helpAsk(@Payload() req: HelpAskRequest, @Ctx() context: NatsContext) {
    const help = await this.help.ask(machineOf(context), req);
    if (help.childTaskId) {
      this.scheduler.kick();
    }
    return help;
  }

  @HandleMachine('helpStatus')
  helpStatus(@Payload() req: HelpStatusRequest, @Ctx() context: NatsContext) {
    return this.help.status(machineOf(context), req);
  }
}
