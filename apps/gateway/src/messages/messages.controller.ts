import { Body, Controller, Get, Inject, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { MessageView, Page } from '@waggle/contracts';
import { RegistryRpc } from '@waggle/contracts';
import type { RpcClient } from '@waggle/messaging';

import { Auth, CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { senderOf } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { RPC } from '../infrastructure/tokens';
import { ListMessagesQueryDto, MessagePageDto, MessageResponseDto, SendMessageDto } from './dto/message.dto';

@ApiTags('messages')
@ApiBearerAuth()
@Controller('api/messages')
export class MessagesController {
  constructor(@Inject(RPC) private readonly rpc: RpcClient) {}

  @Post()
  @Auth('admin', 'machine')
  @ApiOperation({ summary: 'Send a message to a machine, to all machines, or to the hub' })
  @ApiCreatedResponse({ type: MessageResponseDto })
  @ApiErrors(400, 401, 404, 413)
  send(@Body() body: SendMessageDto, @CurrentPrincipal() principal: Principal): Promise<MessageView> {
    return this.rpc.call(RegistryRpc.sendMessage, { v: 1, to: body.to, body: body.body, from: senderOf(principal) });
  }

  @Get()
  @Auth('admin', 'machine')
  @ApiOperation({ summary: "Message history, newest first, with each recipient's delivery state. A machine sees only its own." })
  @ApiOkResponse({ type: MessagePageDto })
  @ApiErrors(400, 401, 404)
  list(@Query() query: ListMessagesQueryDto, @CurrentPrincipal() principal: Principal): Promise<Page<MessageView>> {
    const machine = principal.kind === 'machine' ? principal.machineId : query.machine;
    return this.rpc.call(RegistryRpc.listMessages, { ...query, machine });
  }
}
