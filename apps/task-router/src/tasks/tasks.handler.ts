import { Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';

import {
  CreateTaskRequest,
  HelpAskRequest,
  HelpStatusRequest,
  ListTasksRequest,
  MachineWildcards,
  TaskLeaseRequest,
  TaskLogsRequest,
  TaskRefRequest,
  TaskResultRequest,
  TaskRouterRpc,
} from '@waggle/contracts';

import { RpcServerService } from '../infrastructure/infrastructure.module';
import { HelpService } from './help.service';
import { SchedulerService } from './scheduler.service';
import { TasksService } from './tasks.service';

@Injectable()
export class TasksHandler implements OnApplicationBootstrap {
  constructor(
    private readonly rpc: RpcServerService,
    private readonly tasks: TasksService,
    private readonly scheduler: SchedulerService,
    private readonly help: HelpService,
  ) {}

  onApplicationBootstrap() {
    this.rpc.handle(TaskRouterRpc.create, CreateTaskRequest, async (req) => {
      const task = await this.tasks.create(req);
      this.scheduler.kick();
      return task;
    });
    this.rpc.handle(TaskRouterRpc.list, ListTasksRequest, (req) => this.tasks.list(req));
    this.rpc.handle(TaskRouterRpc.get, TaskRefRequest, (req) => this.tasks.get(req.taskId));
    this.rpc.handle(TaskRouterRpc.cancel, TaskRefRequest, (req) => this.tasks.cancel(req.taskId));
    this.rpc.handle(TaskRouterRpc.retry, TaskRefRequest, async (req) => {
      const task = await this.tasks.retry(req.taskId);
      this.scheduler.kick();
      return task;
    });
    this.rpc.handle(TaskRouterRpc.logs, TaskLogsRequest, (req) => this.tasks.logs(req));
    this.rpc.handleMachine(MachineWildcards.taskClaim, TaskLeaseRequest, (machineId, req) => this.tasks.claim(machineId, req.taskId, req.attempt));
    this.rpc.handleMachine(MachineWildcards.taskRenew, TaskLeaseRequest, (machineId, req) => this.tasks.renew(machineId, req.taskId, req.attempt));
    this.rpc.handleMachine(MachineWildcards.taskResult, TaskResultRequest, async (machineId, req) => {
      const recorded = await this.tasks.result(machineId, req);
      this.scheduler.kick();
      return recorded;
    });
    this.rpc.handleMachine(MachineWildcards.helpAsk, HelpAskRequest, async (machineId, req) => {
      const help = await this.help.ask(machineId, req);
      if (help.childTaskId) this.scheduler.kick();
      return help;
    });
    this.rpc.handleMachine(MachineWildcards.helpStatus, HelpStatusRequest, (machineId, req) => this.help.status(machineId, req));
  }
}
