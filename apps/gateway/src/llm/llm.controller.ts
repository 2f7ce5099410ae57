import { Body, Controller, Get, Headers, HttpCode, Inject, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { isUUID } from 'class-validator';
import type { FastifyReply } from 'fastify';
import type { NatsConnection } from 'nats';
import { createInbox } from 'nats';

import type {
  BreakerView,
  LlmApi,
  LlmCallRequest,
  LlmProviderView,
  LlmStreamFrame,
  LlmSummary,
  Page,
} from '@waggle/contracts';
import {
  ErrorCode,
  FailoverView,
  ListFailoversRequest,
  LlmRpc,
  LlmSummaryRequest,
  ResetBreakersRequest,
  WaggleError,
} from '@waggle/contracts';
import { decodeJson, RpcClient } from '@waggle/messaging';
import { NATS } from '@waggle/service-kit';

import { Auth, CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf } from '../common/contract-schema';
import { GatewayConfig } from '../gateway.config';

/**
 * The LLM gateway's HTTP edge: OpenAI- and Anthropic-compatible endpoints forwarded to
 * llm-failover over NATS (streams come back as frames on a private inbox), and its reports.
 */
@ApiTags('llm')
@ApiBearerAuth()
@Controller()
export class LlmController {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(NATS) private readonly nc: NatsConnection,
    private readonly config: GatewayConfig,
  ) {}

  @Post('v1/chat/completions')
  @Auth('operator', 'machine')
  @ApiOperation({
    summary: 'OpenAI-compatible chat completions (stream: true for server-sent events), failing over between providers',
  })
  @ApiHeader({ name: 'x-waggle-task-id', required: false, description: 'attribute usage and cost to this task' })
  @ApiBody({
    schema: {
      type: 'object',
      description:
        'an OpenAI chat.completions request: model (or alias default/fast/smart), messages, max_tokens, stream…',
    },
  })
  @ApiErrors(400, 401, 502)
  chatCompletions(
    @Body() body: unknown,
    @Headers('x-waggle-task-id') taskId: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.call('openai', body, taskId, principal, reply);
  }

  @Post('v1/messages')
  @Auth('operator', 'machine')
  @ApiOperation({
    summary: 'Anthropic-compatible messages (stream: true for server-sent events), failing over between providers',
  })
  @ApiHeader({ name: 'x-waggle-task-id', required: false, description: 'attribute usage and cost to this task' })
  @ApiBody({
    schema: {
      type: 'object',
      description: 'an Anthropic messages request: model (or alias), max_tokens, messages, system, stream…',
    },
  })
  @ApiErrors(400, 401, 502)
  messages(
    @Body() body: unknown,
    @Headers('x-waggle-task-id') taskId: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.call('anthropic', body, taskId, principal, reply);
  }

  @Get('api/llm/summary')
  @Auth('viewer')
  @ApiOperation({
    summary: "A UTC day's LLM totals (requests, tokens, cost) overall, by provider, machine and task, with the budgets",
  })
  @ApiQueryOf(LlmSummaryRequest)
  @ApiErrors(400, 401)
  summary(@Query() query: LlmSummaryRequest): Promise<LlmSummary> {
    return this.rpc.call(LlmRpc.summary, query);
  }

  @Get('api/llm/providers')
  @Auth('viewer')
  @ApiOperation({
    summary:
      'The provider chain in order: circuit state, health, and over 24 h requests, success rate, latency p50/p95, tokens, cost',
  })
  @ApiErrors(401)
  providers(): Promise<LlmProviderView[]> {
    return this.rpc.call(LlmRpc.providers, {});
  }

  @Get('api/llm/circuit-breakers')
  @Auth('viewer')
  @ApiOperation({ summary: 'Circuit breaker of each provider (shared by every llm-failover replica)' })
  @ApiErrors(401)
  breakers(): Promise<BreakerView[]> {
    return this.rpc.call(LlmRpc.breakers, {});
  }

  @Post('api/llm/circuit-breakers/reset')
  @HttpCode(200)
  @Auth('admin')
  @ApiOperation({ summary: "Close one provider's circuit (or every one)" })
  @ApiBodyOf(ResetBreakersRequest)
  @ApiErrors(400, 401)
  reset(@Body() body: ResetBreakersRequest): Promise<BreakerView[]> {
    return this.rpc.call(LlmRpc.resetBreakers, body);
  }

  @Get('api/llm/failovers')
  @Auth('viewer')
  @ApiOperation({ summary: 'Recent failovers, newest first (paginated): which provider was left for which, and why' })
  @ApiQueryOf(ListFailoversRequest)
  @ApiOkResponse({ schema: pageOf(FailoverView) })
  @ApiErrors(400, 401)
  failovers(@Query() query: ListFailoversRequest): Promise<Page<FailoverView>> {
    return this.rpc.call(LlmRpc.failovers, query);
  }

  private async call(
    api: LlmApi,
    body: unknown,
    taskId: string | undefined,
    principal: Principal,
    reply: FastifyReply,
  ): Promise<void> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw WaggleError.invalid('the body must be a JSON object');
    }
    if (taskId !== undefined && !isUUID(taskId)) {
      throw WaggleError.invalid('x-waggle-task-id must be a task id (UUID)', [
        { field: 'x-waggle-task-id', errors: ['must be a UUID'] },
      ]);
    }
    const request: LlmCallRequest = {
      v: 1,
      api,
      body: body as Record<string, unknown>,
      caller:
        principal.kind === 'machine'
          ? { kind: 'machine', machineId: principal.machineId, name: principal.name }
          : { kind: 'admin', name: principal.name },
      taskId,
    };
    if ((body as { stream?: unknown }).stream === true) {
      return this.stream(request, reply);
    }
    const answer = await this.rpc.call(LlmRpc.complete, request, this.config.WAGGLE_LLM_REQUEST_TIMEOUT_MS);
    await reply
      .status(answer.status)
      .headers(answer.headers ?? {})
      .send(answer.body);
  }

  /** Frames from llm-failover, in order, onto the response as server-sent events. */
  private async stream(request: LlmCallRequest, reply: FastifyReply): Promise<void> {
    const inbox = createInbox();
    const sub = this.nc.subscribe(inbox, { timeout: this.config.WAGGLE_LLM_REQUEST_TIMEOUT_MS });
    try {
      await this.rpc.call(LlmRpc.stream, { ...request, streamTo: inbox });
      let expected = 0;
      let started = false;
      for await (const msg of sub) {
        const frame = decodeJson(msg.data) as LlmStreamFrame;
        if (frame.seq !== expected++) {
          throw new WaggleError(ErrorCode.Internal, 'LLM stream frames arrived out of order');
        }
        if (frame.type === 'head') {
          if (frame.status !== 200) {
            await reply
              .status(frame.status)
              .headers(frame.headers ?? {})
              .send(frame.body);
            return;
          }
          reply.hijack();
          reply.raw.writeHead(200, {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache',
            connection: 'keep-alive',
          });
          started = true;
        } else if (frame.type === 'data') {
          reply.raw.write(frame.data);
        } else {
          if (started) {
            reply.raw.end();
          }
          return;
        }
      }
      if (started) {
        reply.raw.end();
      } else {
        throw new WaggleError(ErrorCode.Timeout, 'the LLM stream did not start in time');
      }
    } finally {
      sub.unsubscribe();
    }
  }
}
