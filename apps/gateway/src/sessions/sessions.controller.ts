import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { Page, SentReply } from '@waggle/contracts';
import {
  AttentionItemView,
  CaptureSessionQuery,
  CreateSessionBody,
  ListSessionsQuery,
  PageQuery,
  ResizeSessionBody,
  ScreenView,
  SendToSessionBody,
  SessionsRpc,
  SessionView,
} from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth } from '../auth/auth.decorators';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';

// Viewers read sessions and screens; typing, creating, resizing and killing are operators'. No machine
// credential: one that could type here could type into another machine's sessions through the hub.
@ApiTags('sessions')
@ApiBearerAuth()
@Controller('api/sessions')
export class SessionsController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @Auth('viewer')
  @ApiOperation({
    summary:
      'Agent sessions on every machine as their agents last reported them: windows, panes, command, directory, activity, state (paginated)',
  })
  @ApiQueryOf(ListSessionsQuery)
  @ApiOkResponse({ schema: pageOf(SessionView) })
  @ApiErrors(400, 401, 403, 404)
  list(@Query() query: ListSessionsQuery): Promise<Page<SessionView>> {
    return this.rpc.call(SessionsRpc.list, query);
  }

  @Post()
  @Auth('operator')
  @ApiOperation({
    summary:
      'Start a program (an argument array, never a shell string) in a new tmux session on a machine; its agent must allow sessions',
  })
  @ApiBodyOf(CreateSessionBody)
  @ApiCreatedResponse({ schema: schemaRef(SessionView) })
  @ApiErrors(400, 401, 403, 404, 409, 503)
  create(@Body() body: CreateSessionBody): Promise<SessionView> {
    return this.rpc.call(SessionsRpc.create, { v: 1, ...body });
  }

  @Get(':machine/:session')
  @Auth('viewer')
  @ApiOperation({ summary: 'One session as last reported' })
  @ApiOkResponse({ schema: schemaRef(SessionView) })
  @ApiErrors(400, 401, 403, 404)
  get(@Param('machine') machine: string, @Param('session') session: string): Promise<SessionView> {
    return this.rpc.call(SessionsRpc.get, { machine, session });
  }

  @Post(':machine/:session/send')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({ summary: 'Type text (literally), then keys (tmux key names), into the session' })
  @ApiBodyOf(SendToSessionBody)
  @ApiOkResponse({ schema: { type: 'object', properties: { turn: { type: 'integer' } }, required: ['turn'] } })
  @ApiErrors(400, 401, 403, 404, 503)
  send(
    @Param('machine') machine: string,
    @Param('session') session: string,
    @Body() body: SendToSessionBody,
  ): Promise<SentReply> {
    return this.rpc.call(SessionsRpc.send, { ...body, machine, session });
  }

  @Get(':machine/:session/screen')
  @Auth('viewer')
  @ApiOperation({ summary: "The session's screen now, with scrollback above it when asked" })
  @ApiQueryOf(CaptureSessionQuery)
  @ApiOkResponse({ schema: schemaRef(ScreenView) })
  @ApiErrors(400, 401, 403, 404, 503)
  screen(
    @Param('machine') machine: string,
    @Param('session') session: string,
    @Query() query: CaptureSessionQuery,
  ): Promise<ScreenView> {
    return this.rpc.call(SessionsRpc.capture, { ...query, machine, session });
  }

  @Post(':machine/:session/resize')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({ summary: "Resize the session's window" })
  @ApiBodyOf(ResizeSessionBody)
  @ApiOkResponse({ schema: schemaRef(SessionView) })
  @ApiErrors(400, 401, 403, 404, 503)
  resize(
    @Param('machine') machine: string,
    @Param('session') session: string,
    @Body() body: ResizeSessionBody,
  ): Promise<SessionView> {
    return this.rpc.call(SessionsRpc.resize, { ...body, machine, session });
  }

  @Delete(':machine/:session')
  @Auth('operator')
  @ApiOperation({ summary: 'Kill the session (its agent forgets it: it is not recreated after a reboot)' })
  @ApiOkResponse({ schema: { type: 'object', properties: { killed: { type: 'boolean' } }, required: ['killed'] } })
  @ApiErrors(400, 401, 403, 404, 503)
  kill(@Param('machine') machine: string, @Param('session') session: string): Promise<{ killed: true }> {
    return this.rpc.call(SessionsRpc.kill, { machine, session });
  }
}

@ApiTags('sessions')
@ApiBearerAuth()
@Controller('api/attention')
export class AttentionController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @Auth('viewer')
  @ApiOperation({
    summary:
      'Every session on every machine that needs input or has finished, with the end of its screen; answer with POST /api/sessions/:machine/:session/send',
  })
  @ApiQueryOf(PageQuery)
  @ApiOkResponse({ schema: pageOf(AttentionItemView) })
  @ApiErrors(400, 401, 403)
  list(@Query() query: PageQuery): Promise<Page<AttentionItemView>> {
    return this.rpc.call(SessionsRpc.listAttention, query);
  }

  @Post(':machine/:session/dismiss')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({ summary: 'Take a session out of the inbox until its state changes again' })
  @ApiOkResponse({
    schema: { type: 'object', properties: { dismissed: { type: 'boolean' } }, required: ['dismissed'] },
  })
  @ApiErrors(400, 401, 403, 404)
  dismiss(@Param('machine') machine: string, @Param('session') session: string): Promise<{ dismissed: true }> {
    return this.rpc.call(SessionsRpc.dismissAttention, { machine, session });
  }
}
