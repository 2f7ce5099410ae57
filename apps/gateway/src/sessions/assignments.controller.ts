import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { ClearedReply, Page } from '@waggle/contracts';
import {
  AssignmentsRpc,
  AssignmentView,
  ClearAssignmentsQuery,
  CreateAssignmentBody,
  ListAssignmentsQuery,
  ReassignBody,
  WaggleError,
} from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth } from '../auth/auth.decorators';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';

const assignmentId = new ParseUUIDPipe({
  exceptionFactory: () =>
    WaggleError.invalid('assignment id must be a UUID', [{ field: 'id', errors: ['must be a UUID'] }]),
});

@ApiTags('sessions')
@ApiBearerAuth()
@Controller('api/assignments')
export class AssignmentsController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @Auth('operator')
  @ApiOperation({
    summary:
      'Queue a prompt: typed into the next idle session that fits (a target, or a CLI and labels), then followed to completed or failed',
  })
  @ApiBodyOf(CreateAssignmentBody)
  @ApiCreatedResponse({ schema: schemaRef(AssignmentView) })
  @ApiErrors(400, 401, 403, 404)
  create(@Body() body: CreateAssignmentBody): Promise<AssignmentView> {
    return this.rpc.call(AssignmentsRpc.create, { v: 1, ...body });
  }

  @Get()
  @Auth('viewer')
  @ApiOperation({ summary: 'Assignments, newest first (paginated)' })
  @ApiQueryOf(ListAssignmentsQuery)
  @ApiOkResponse({ schema: pageOf(AssignmentView) })
  @ApiErrors(400, 401, 403)
  list(@Query() query: ListAssignmentsQuery): Promise<Page<AssignmentView>> {
    return this.rpc.call(AssignmentsRpc.list, query);
  }

  @Delete()
  @Auth('operator')
  @ApiOperation({ summary: 'Clear completed, failed and cancelled assignments (older than olderThanSeconds)' })
  @ApiQueryOf(ClearAssignmentsQuery)
  @ApiOkResponse({ schema: { type: 'object', properties: { cleared: { type: 'integer' } }, required: ['cleared'] } })
  @ApiErrors(400, 401, 403)
  clear(@Query() query: ClearAssignmentsQuery): Promise<ClearedReply> {
    return this.rpc.call(AssignmentsRpc.clear, query);
  }

  @Get(':id')
  @Auth('viewer')
  @ApiOperation({ summary: 'One assignment' })
  @ApiOkResponse({ schema: schemaRef(AssignmentView) })
  @ApiErrors(400, 401, 403, 404)
  get(@Param('id', assignmentId) id: string): Promise<AssignmentView> {
    return this.rpc.call(AssignmentsRpc.get, { id });
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({ summary: 'Cancel a queued or running assignment (what was typed stays typed)' })
  @ApiOkResponse({ schema: schemaRef(AssignmentView) })
  @ApiErrors(400, 401, 403, 404, 409)
  cancel(@Param('id', assignmentId) id: string): Promise<AssignmentView> {
    return this.rpc.call(AssignmentsRpc.cancel, { id });
  }

  @Post(':id/retry')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({ summary: 'Queue a failed or cancelled assignment again' })
  @ApiOkResponse({ schema: schemaRef(AssignmentView) })
  @ApiErrors(400, 401, 403, 404, 409)
  retry(@Param('id', assignmentId) id: string): Promise<AssignmentView> {
    return this.rpc.call(AssignmentsRpc.retry, { id });
  }

  @Post(':id/reassign')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({ summary: 'Queue it again for another session (or any that fits)' })
  @ApiBodyOf(ReassignBody)
  @ApiOkResponse({ schema: schemaRef(AssignmentView) })
  @ApiErrors(400, 401, 403, 404, 409)
  reassign(@Param('id', assignmentId) id: string, @Body() body: ReassignBody): Promise<AssignmentView> {
    return this.rpc.call(AssignmentsRpc.reassign, { ...body, id });
  }
}
