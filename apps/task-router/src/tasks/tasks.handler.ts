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
  get(req: TaskRefRequest) {
    return this.tasks.get(req.taskId);
  }

  @HandleRpc(TaskRouterRpc.cancel)
  cancel(req: TaskRefRequest) {
    return this.tasks.cancel(req.taskId);
  }

  @HandleRpc(TaskRouterRpc.retry)
  async retry(req: TaskRefRequest) {
    const task = await this.tasks.retry(req.taskId);
    this.scheduler.kick();
    return task;
  }

  @HandleRpc(TaskRouterRpc.logs)
  logs(req: TaskLogsRequest) {
    return this.tasks.logs(req);
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
    const recorded = await this.tasks.result(machineOf(context), req);
    this.scheduler.kick();
    return recorded;
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
