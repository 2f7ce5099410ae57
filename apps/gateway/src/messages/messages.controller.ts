import { Body, Controller, Get, Headers, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { Page } from '@waggle/contracts';
import { ListMessagesRequest, MessageView, RegistryRpc, SendMessageBody } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth, CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { senderOf } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';
import { ApiIdempotencyKey, callerScope, idempotencyOf } from '../common/idempotency';

@ApiTags('messages')
@ApiBearerAuth()
@Controller('api/messages')
export class MessagesController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @Auth('operator', 'machine')
  @ApiOperation({ summary: 'Send a message to a machine, to all machines, or to the hub' })
  @ApiBodyOf(SendMessageBody)
  @ApiCreatedResponse({ schema: schemaRef(MessageView) })
  @ApiErrors(400, 401, 404, 413, 422, 429)
  @ApiIdempotencyKey()
  send(
    @Body() body: SendMessageBody,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') key: string | undefined,
  ): Promise<MessageView> {
    return this.rpc.call(RegistryRpc.sendMessage, {
      v: 1,
      to: body.to,
      body: body.body,
      from: senderOf(principal),
      ...idempotencyOf(callerScope(principal), key, body),
    });
  }

  @Get()
  @Auth('viewer', 'machine')
  @ApiOperation({
    summary: "Message history, newest first, with each recipient's delivery state. A machine sees only its own.",
  })
  @ApiQueryOf(ListMessagesRequest)
  @ApiOkResponse({ schema: pageOf(MessageView) })
  @ApiErrors(400, 401, 404)
  list(@Query() query: ListMessagesRequest, @CurrentPrincipal() principal: Principal): Promise<Page<MessageView>> {
    const machine = principal.kind === 'machine' ? principal.machineId : query.machine;
    return this.rpc.call(RegistryRpc.listMessages, { ...query, machine });
  }
}
