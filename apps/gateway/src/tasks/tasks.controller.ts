import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { Page } from '@waggle/contracts';
import {
  CreateTaskBody,
  ListTasksRequest,
  TaskLogsPage,
  TaskLogsQuery,
  TaskRouterRpc,
  TaskView,
  WaggleError,
} from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth, CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { senderOf } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';
import { ApiIdempotencyKey, idempotencyKeyOf } from '../common/idempotency';

const taskId = new ParseUUIDPipe({
  exceptionFactory: () => WaggleError.invalid('task id must be a UUID', [{ field: 'id', errors: ['must be a UUID'] }]),
});

@ApiTags('tasks')
@ApiBearerAuth()
@Controller('api/tasks')
export class TasksController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @Auth('admin', 'machine')
  @ApiOperation({
    summary:
      'Create a task: placed on a capable machine (or its target), refused at once if no machine could ever run it',
  })
  @ApiBodyOf(CreateTaskBody)
  @ApiCreatedResponse({ schema: schemaRef(TaskView) })
  @ApiErrors(400, 401, 404)
  @ApiIdempotencyKey()
  create(
    @Body() body: CreateTaskBody,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') key: string | undefined,
  ): Promise<TaskView> {
    return this.rpc.call(TaskRouterRpc.create, {
      v: 1,
      ...body,
      createdBy: senderOf(principal),
      idempotencyKey: idempotencyKeyOf(principal, key),
    });
  }

  @Get()
  @Auth('admin', 'machine')
  @ApiOperation({ summary: 'List tasks, newest first (filter by state, machine, kind; paginated)' })
  @ApiQueryOf(ListTasksRequest)
  @ApiOkResponse({ schema: pageOf(TaskView) })
  @ApiErrors(400, 401, 404)
  list(@Query() query: ListTasksRequest): Promise<Page<TaskView>> {
    return this.rpc.call(TaskRouterRpc.list, query);
  }

  @Get(':id')
  @Auth('admin', 'machine')
  @ApiOperation({
    summary:
      'A task with every attempt, and while queued why it waits (each candidate machine and the reason it was passed over)',
  })
  @ApiOkResponse({ schema: schemaRef(TaskView) })
  @ApiErrors(400, 401, 404)
  get(@Param('id', taskId) id: string): Promise<TaskView> {
    return this.rpc.call(TaskRouterRpc.get, { taskId: id });
  }

  @Get(':id/logs')
  @Auth('admin', 'machine')
  @ApiOperation({ summary: 'Output of a task, in order (kept bounded); follow live over /ws' })
  @ApiQueryOf(TaskLogsQuery)
  @ApiOkResponse({ schema: schemaRef(TaskLogsPage) })
  @ApiErrors(400, 401, 404)
  logs(@Param('id', taskId) id: string, @Query() query: TaskLogsQuery): Promise<TaskLogsPage> {
    return this.rpc.call(TaskRouterRpc.logs, { taskId: id, ...query });
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Auth('admin')
  @ApiOperation({ summary: 'Cancel: a queued task at once; a running one gets SIGINT, SIGTERM, then SIGKILL' })
  @ApiOkResponse({ schema: schemaRef(TaskView) })
  @ApiErrors(400, 401, 403, 404, 409)
  cancel(@Param('id', taskId) id: string): Promise<TaskView> {
    return this.rpc.call(TaskRouterRpc.cancel, { taskId: id });
  }

  @Post(':id/retry')
  @HttpCode(200)
  @Auth('admin')
  @ApiOperation({ summary: 'Queue a failed, cancelled or timed-out task again' })
  @ApiOkResponse({ schema: schemaRef(TaskView) })
  @ApiErrors(400, 401, 403, 404, 409)
  retry(@Param('id', taskId) id: string): Promise<TaskView> {
    return this.rpc.call(TaskRouterRpc.retry, { taskId: id });
  }
}
