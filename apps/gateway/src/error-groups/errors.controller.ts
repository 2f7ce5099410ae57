import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

import type { Page } from '@waggle/contracts';
import {
  AssignBody,
  CreateIngestKeyBody,
  ErrorEventView,
  ErrorGroupView,
  ErrorsRpc,
  IngestKeyCreated,
  IngestKeyView,
  ListErrorGroupsQuery,
  MergeErrorGroupsBody,
  PageQuery,
  UpdateErrorGroupBody,
  WorkItemView,
} from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth, CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { senderOf } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';
import { GatewayConfig } from '../gateway.config';
import { projectRef, uuidOf } from '../tracker/tracker-params';

const groupId = uuidOf('error group');
const keyId = uuidOf('ingest key');

/** `http(s)://KEY@HOST/NUMBER`: the public URL when one is set, else the host the request came to. */
function dsnOf(req: FastifyRequest, key: string, projectNumber: number, publicUrl: string | undefined): string {
  const base = new URL(publicUrl ?? `${req.protocol}://${req.headers.host ?? req.hostname}`);
  return `${base.protocol}//${key}@${base.host}${base.pathname.replace(/\/$/, '')}/${projectNumber}`;
}

/** Error groups: read (viewer), resolve, ignore, merge, make a bug, fix (operator); ingest keys (admin). */
@ApiTags('errors')
@ApiBearerAuth()
@Controller('api')
export class ErrorsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly config: GatewayConfig,
  ) {}

  @Get('errors')
  @Auth('viewer')
  @ApiOperation({
    summary:
      'Error groups, newest last seen first (or by count, or first seen), filtered by project, status, machine, release and text (paginated)',
  })
  @ApiQueryOf(ListErrorGroupsQuery)
  @ApiOkResponse({ schema: pageOf(ErrorGroupView) })
  @ApiErrors(400, 401, 404)
  list(@Query() query: ListErrorGroupsQuery): Promise<Page<ErrorGroupView>> {
    return this.rpc.call(ErrorsRpc.list, query);
  }

  @Get('errors/:id')
  @Auth('viewer')
  @ApiOperation({ summary: 'An error group: counts, first and last seen, machines, releases, its bug' })
  @ApiOkResponse({ schema: schemaRef(ErrorGroupView) })
  @ApiErrors(400, 401, 404)
  get(@Param('id', groupId) id: string): Promise<ErrorGroupView> {
    return this.rpc.call(ErrorsRpc.get, { groupId: id });
  }

  @Get('errors/:id/events')
  @Auth('viewer')
  @ApiOperation({ summary: "A group's latest events (the last 100 are kept), newest first, scrubbed of secrets" })
  @ApiQueryOf(PageQuery)
  @ApiOkResponse({ schema: pageOf(ErrorEventView) })
  @ApiErrors(400, 401, 404)
  events(@Param('id', groupId) id: string, @Query() query: PageQuery): Promise<Page<ErrorEventView>> {
    return this.rpc.call(ErrorsRpc.events, { ...query, groupId: id });
  }

  @Patch('errors/:id')
  @Auth('operator')
  @ApiOperation({
    summary:
      'Resolve, ignore (until a time or N more events) or unresolve a group. A resolved group seen again becomes regressed',
  })
  @ApiBodyOf(UpdateErrorGroupBody)
  @ApiOkResponse({ schema: schemaRef(ErrorGroupView) })
  @ApiErrors(400, 401, 404)
  update(
    @Param('id', groupId) id: string,
    @Body() body: UpdateErrorGroupBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ErrorGroupView> {
    return this.rpc.call(ErrorsRpc.update, { v: 1, ...body, groupId: id, actor: senderOf(principal) });
  }

  @Post('errors/:id/merge')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({
    summary:
      "Merge other groups of the same project into this one: their events, counts and fingerprints move here, so their future events land here too",
  })
  @ApiBodyOf(MergeErrorGroupsBody)
  @ApiOkResponse({ schema: schemaRef(ErrorGroupView) })
  @ApiErrors(400, 401, 404, 409)
  merge(
    @Param('id', groupId) id: string,
    @Body() body: MergeErrorGroupsBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ErrorGroupView> {
    return this.rpc.call(ErrorsRpc.merge, { v: 1, ...body, groupId: id, actor: senderOf(principal) });
  }

  @Post('errors/:id/bug')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({
    summary:
      "Make a bug of the group (once: the same bug after), with the stack trace and the latest event's context; the group shows the bug and its pull request",
  })
  @ApiOkResponse({ schema: schemaRef(WorkItemView) })
  @ApiErrors(400, 401, 404)
  bug(@Param('id', groupId) id: string, @CurrentPrincipal() principal: Principal): Promise<WorkItemView> {
    return this.rpc.call(ErrorsRpc.bug, { v: 1, groupId: id, actor: senderOf(principal) });
  }

  @Post('errors/:id/fix')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({
    summary:
      "Fix it: the group's bug (made if needed) handed to an agent like POST /api/bugs/:id/assign; the pull request shows on the bug and the group",
  })
  @ApiBodyOf(AssignBody)
  @ApiOkResponse({ schema: schemaRef(WorkItemView) })
  @ApiErrors(400, 401, 404, 409, 422)
  fix(
    @Param('id', groupId) id: string,
    @Body() body: AssignBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<WorkItemView> {
    return this.rpc.call(ErrorsRpc.fix, { v: 1, ...body, groupId: id, actor: senderOf(principal) }, 20_000);
  }

  @Post('projects/:project/ingest-keys')
  @Auth('admin')
  @ApiOperation({
    summary:
      'Make an ingest key for the project: it can only send errors. The key and its DSN are in this reply only',
  })
  @ApiBodyOf(CreateIngestKeyBody)
  @ApiCreatedResponse({ schema: schemaRef(IngestKeyCreated) })
  @ApiErrors(400, 401, 404)
  async createKey(
    @Param('project', projectRef) project: string,
    @Body() body: CreateIngestKeyBody,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<IngestKeyCreated> {
    const created = await this.rpc.call(ErrorsRpc.createKey, { v: 1, ...body, project, actor: senderOf(principal) });
    return { ...created, dsn: dsnOf(req, created.key, created.projectNumber, this.config.WAGGLE_PUBLIC_URL) };
  }

  @Get('projects/:project/ingest-keys')
  @Auth('admin')
  @ApiOperation({ summary: "A project's ingest keys (their first characters only), oldest first (paginated)" })
  @ApiQueryOf(PageQuery)
  @ApiOkResponse({ schema: pageOf(IngestKeyView) })
  @ApiErrors(400, 401, 404)
  listKeys(@Param('project', projectRef) project: string, @Query() query: PageQuery): Promise<Page<IngestKeyView>> {
    return this.rpc.call(ErrorsRpc.listKeys, { ...query, project });
  }

  @Delete('ingest-keys/:id')
  @Auth('admin')
  @ApiOperation({ summary: 'Revoke an ingest key: what it sends is refused (401) from then on' })
  @ApiOkResponse({ schema: schemaRef(IngestKeyView) })
  @ApiErrors(400, 401, 404)
  revokeKey(@Param('id', keyId) id: string, @CurrentPrincipal() principal: Principal): Promise<IngestKeyView> {
    return this.rpc.call(ErrorsRpc.revokeKey, { keyId: id, actor: senderOf(principal) });
  }
}
