import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { CreatedJoinToken, JoinResponse, MachineView, Page } from '@waggle/contracts';
import { RegistryRpc } from '@waggle/contracts';
import type { RpcClient } from '@waggle/messaging';

import { Auth, Public } from '../auth/auth.decorators';
import { ApiErrors } from '../common/api-errors';
import { RPC } from '../infrastructure/tokens';
import {
  CreateJoinTokenDto,
  JoinMachineDto,
  JoinResponseDto,
  JoinTokenResponseDto,
  ListMachinesQueryDto,
  MachinePageDto,
  MachineResponseDto,
} from './dto/machine.dto';

@ApiTags('machines')
@Controller('api')
export class MachinesController {
  constructor(@Inject(RPC) private readonly rpc: RpcClient) {}

  @Get('machines')
  @Auth('admin', 'machine')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'List machines (filter by status, capability, label; paginated)' })
  @ApiOkResponse({ type: MachinePageDto })
  @ApiErrors(400, 401)
  list(@Query() query: ListMachinesQueryDto): Promise<Page<MachineView>> {
    return this.rpc.call(RegistryRpc.listMachines, query);
  }

  @Get('machines/:id')
  @Auth('admin', 'machine')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'One machine, by id or name' })
  @ApiOkResponse({ type: MachineResponseDto })
  @ApiErrors(401, 404)
  get(@Param('id') id: string): Promise<MachineView> {
    return this.rpc.call(RegistryRpc.getMachine, { machine: id });
  }

  @Delete('machines/:id')
  @Auth('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Revoke a machine: its API credential and NATS user stop working at once' })
  @ApiOkResponse({ type: MachineResponseDto })
  @ApiErrors(401, 403, 404, 409)
  revoke(@Param('id') id: string): Promise<MachineView> {
    return this.rpc.call(RegistryRpc.revokeMachine, { machine: id });
  }

  @Post('machines/join')
  @Public()
  @HttpCode(201)
  @ApiOperation({ summary: "Join the hub with a join token; returns the machine's own credentials (shown once)" })
  @ApiCreatedResponse({ type: JoinResponseDto })
  @ApiErrors(400, 401, 409)
  join(@Body() body: JoinMachineDto): Promise<JoinResponse> {
    return this.rpc.call(RegistryRpc.join, { v: 1, ...body });
  }

  @Post('join-tokens')
  @Auth('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Create a join token (shown once)' })
  @ApiCreatedResponse({ type: JoinTokenResponseDto })
  @ApiErrors(400, 401, 403)
  createJoinToken(@Body() body: CreateJoinTokenDto): Promise<CreatedJoinToken> {
    return this.rpc.call(RegistryRpc.createJoinToken, body);
  }
}
