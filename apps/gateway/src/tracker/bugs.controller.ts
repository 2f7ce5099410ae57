import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { Page } from '@waggle/contracts';
import {
  AssignBody,
  CommentView,
  CreateCommentBody,
  DeletedReply,
  HistoryEntryView,
  PageQuery,
  TrackerRpc,
  UpdateBugBody,
  WorkItemView,
} from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth, CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { senderOf } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';
import { itemRef } from './tracker-params';

/** The bug's id or ref (`bug-12`). */
const itemId = itemRef;

/** One bug: change it, comment on it, read its history, hand it to an agent. */
@ApiTags('tracker')
@ApiBearerAuth()
@Controller('api/bugs')
export class BugsController {
  constructor(private readonly rpc: RpcClient) {}

  @Get(':id')
  @Auth('viewer')
  @ApiOperation({ summary: 'A bug, with its task and pull request when an agent has it' })
  @ApiOkResponse({ schema: schemaRef(WorkItemView) })
  @ApiErrors(400, 401, 404)
  get(@Param('id', itemId) id: string): Promise<WorkItemView> {
    return this.rpc.call(TrackerRpc.getItem, { kind: 'bug', itemId: id });
  }

  @Patch(':id')
  @Auth('operator')
  @ApiOperation({
    summary:
      "Change a bug. Its status moves open → triaged → in_progress → fixed → verified, or won't fix (and back a step); another move is refused with 409 naming the allowed ones",
  })
  @ApiBodyOf(UpdateBugBody)
  @ApiOkResponse({ schema: schemaRef(WorkItemView) })
  @ApiErrors(400, 401, 404, 409)
  update(
    @Param('id', itemId) id: string,
    @Body() body: UpdateBugBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<WorkItemView> {
    return this.rpc.call(TrackerRpc.updateBug, { v: 1, ...body, itemId: id, actor: senderOf(principal) });
  }

  @Delete(':id')
  @Auth('operator')
  @ApiOperation({ summary: 'Delete a bug with its comments and history' })
  @ApiOkResponse({ schema: schemaRef(DeletedReply) })
  @ApiErrors(400, 401, 404)
  delete(@Param('id', itemId) id: string, @CurrentPrincipal() principal: Principal): Promise<DeletedReply> {
    return this.rpc.call(TrackerRpc.deleteItem, { kind: 'bug', itemId: id, actor: senderOf(principal) });
  }

  @Post(':id/comments')
  @Auth('operator')
  @ApiOperation({ summary: 'Comment on a bug (Markdown; agents given the bug read the comments)' })
  @ApiBodyOf(CreateCommentBody)
  @ApiCreatedResponse({ schema: schemaRef(CommentView) })
  @ApiErrors(400, 401, 404)
  comment(
    @Param('id', itemId) id: string,
    @Body() body: CreateCommentBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CommentView> {
    return this.rpc.call(TrackerRpc.comment, { v: 1, ...body, kind: 'bug', itemId: id, actor: senderOf(principal) });
  }

  @Get(':id/comments')
  @Auth('viewer')
  @ApiOperation({ summary: "A bug's comments, oldest first (paginated)" })
  @ApiQueryOf(PageQuery)
  @ApiOkResponse({ schema: pageOf(CommentView) })
  @ApiErrors(400, 401, 404)
  comments(@Param('id', itemId) id: string, @Query() query: PageQuery): Promise<Page<CommentView>> {
    return this.rpc.call(TrackerRpc.listComments, { ...query, kind: 'bug', itemId: id });
  }

  @Get(':id/history')
  @Auth('viewer')
  @ApiOperation({ summary: 'Every change of a bug, oldest first: who, when, which field, from → to' })
  @ApiQueryOf(PageQuery)
  @ApiOkResponse({ schema: pageOf(HistoryEntryView) })
  @ApiErrors(400, 401, 404)
  history(@Param('id', itemId) id: string, @Query() query: PageQuery): Promise<Page<HistoryEntryView>> {
    return this.rpc.call(TrackerRpc.history, { ...query, kind: 'bug', itemId: id });
  }

  @Post(':id/assign')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({
    summary:
      "Hand the bug to an agent: a task on a machine (or any with the capabilities) clones the project's repository, runs the agent CLI on the report and opens a pull request. The bug moves to in_progress, to fixed when the pull request opens, or back with the failure report. 409 while an earlier task still runs",
  })
  @ApiBodyOf(AssignBody)
  @ApiOkResponse({ schema: schemaRef(WorkItemView) })
  @ApiErrors(400, 401, 404, 409, 422)
  assign(
    @Param('id', itemId) id: string,
    @Body() body: AssignBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<WorkItemView> {
    return this.rpc.call(
      TrackerRpc.assign,
      { v: 1, ...body, kind: 'bug', itemId: id, actor: senderOf(principal) },
      20_000,
    );
  }
}
