import type { PipeTransform } from '@nestjs/common';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { Page } from '@waggle/contracts';
import {
  CheckPlacementBody,
  CreateTaskBody,
  isIdRef,
  ListTasksQuery,
  PlacementCheck,
  TaskLogsPage,
  TaskLogsQuery,
  TaskRouterRpc,
  TaskView,
  taskVisibleTo,
  WaggleError,
} from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth, CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { senderOf } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';
import { ApiIdempotencyKey, callerScope, idempotencyOf } from '../common/idempotency';

/** A task's id, or its first characters (the router finds the one task they start). */
const taskId: PipeTransform<string, string> = {
  transform(value: string) {
    if (!isIdRef(value)) {
      throw WaggleError.invalid('task id must be a UUID or its first characters', [
        { field: 'id', errors: ['must be a UUID or its first characters'] },
      ]);
    }
    return value;
  },
};

@ApiTags('tasks')
@ApiBearerAuth()
@Controller('api/tasks')
export class TasksController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @Auth('operator', 'machine')
  @ApiOperation({
    summary:
      'Create a task: placed on a capable machine (or its target), refused at once if no machine could ever run it. A machine needs the dispatch permission, and creates shell and command tasks only for itself',
  })
  @ApiBodyOf(CreateTaskBody)
  @ApiCreatedResponse({ schema: schemaRef(TaskView) })
  @ApiErrors(400, 401, 403, 404, 422, 429)
  @ApiIdempotencyKey()
  create(
    @Body() body: CreateTaskBody,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') key: string | undefined,
  ): Promise<TaskView> {
    // Whether a machine may create this task is the router's call (it knows the target and the machine's permissions now).
    return this.rpc.call(TaskRouterRpc.create, {
      v: 1,
      ...body,
      createdBy: senderOf(principal),
      ...idempotencyOf(callerScope(principal), key, body),
    });
  }

  @Post('placement')
  @HttpCode(200)
  @Auth('viewer')
  @ApiOperation({
    summary:
      'Which machines could run a task like this, and why the others could not (a dry run: nothing is created; the same rules as creating and placing it)',
  })
  @ApiBodyOf(CheckPlacementBody)
  @ApiOkResponse({ schema: schemaRef(PlacementCheck) })
  @ApiErrors(400, 401, 403, 404)
  checkPlacement(@Body() body: CheckPlacementBody): Promise<PlacementCheck> {
    return this.rpc.call(TaskRouterRpc.checkPlacement, body);
  }

  @Get()
  @Auth('viewer', 'machine')
  @ApiOperation({ summary: 'List tasks, newest first (filter by state, machine, kind; paginated)' })
  @ApiQueryOf(ListTasksQuery)
  @ApiOkResponse({ schema: pageOf(TaskView) })
  @ApiErrors(400, 401, 404)
  list(@Query() query: ListTasksQuery, @CurrentPrincipal() principal: Principal): Promise<Page<TaskView>> {
    // A machine's credential sees only the tasks it runs, ran, is targeted by or created.
    const visibleTo = principal.kind === 'machine' ? principal.machineId : undefined;
    return this.rpc.call(TaskRouterRpc.list, { ...query, visibleTo });
  }

  @Get(':id')
  @Auth('viewer', 'machine')
  @ApiOperation({
    summary:
      'A task (by its id or a unique prefix of it) with every attempt, and while queued why it waits (each candidate machine and the reason it was passed over)',
  })
  @ApiOkResponse({ schema: schemaRef(TaskView) })
  @ApiErrors(400, 401, 404)
  get(@Param('id', taskId) id: string, @CurrentPrincipal() principal: Principal): Promise<TaskView> {
    return this.visible(id, principal);
  }

  @Get(':id/logs')
  @Auth('viewer', 'machine')
  @ApiOperation({ summary: 'Output of a task, in order (kept bounded); follow live over /ws' })
  @ApiQueryOf(TaskLogsQuery)
  @ApiOkResponse({ schema: schemaRef(TaskLogsPage) })
  @ApiErrors(400, 401, 404)
  async logs(
    @Param('id', taskId) id: string,
    @Query() query: TaskLogsQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<TaskLogsPage> {
    // A machine's credential reads the logs of the tasks it may see, and only those.
    const taskId = principal.kind === 'machine' ? (await this.visible(id, principal)).id : id;
    return this.rpc.call(TaskRouterRpc.logs, { taskId, ...query });
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({ summary: 'Cancel: a queued task at once; a running one gets SIGINT, SIGTERM, then SIGKILL' })
  @ApiOkResponse({ schema: schemaRef(TaskView) })
  @ApiErrors(400, 401, 403, 404, 409)
  cancel(@Param('id', taskId) id: string): Promise<TaskView> {
    return this.rpc.call(TaskRouterRpc.cancel, { taskId: id });
  }

  @Post(':id/retry')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({ summary: 'Queue a failed, cancelled or timed-out task again' })
  @ApiOkResponse({ schema: schemaRef(TaskView) })
  @ApiErrors(400, 401, 403, 404, 409)
  retry(@Param('id', taskId) id: string): Promise<TaskView> {
    return this.rpc.call(TaskRouterRpc.retry, { taskId: id });
  }

  /** The task, if the caller may see it; a machine asking for another machine's task is told it does not exist. */
  private async visible(id: string, principal: Principal): Promise<TaskView> {
    const visibleTo = principal.kind === 'machine' ? principal.machineId : undefined;
    const task = await this.rpc.call(TaskRouterRpc.get, { taskId: id, visibleTo });
    if (principal.kind === 'machine' && !taskVisibleTo(task, principal.machineId)) {
      throw WaggleError.notFound('task', id);
    }
    return task;
  }
}
