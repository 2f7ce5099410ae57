import { Body, Controller, Delete, Get, HttpCode, Ip, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { Page } from '@waggle/contracts';
import {
  CreatedJoinToken,
  CreateJoinTokenRequest,
  ErrorCode,
  JoinMachineBody,
  JoinResponse,
  ListMachinesRequest,
  MachineView,
  RegistryRpc,
  WaggleError,
} from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { AuthThrottle } from '../auth/auth-throttle';
import { Auth, Public } from '../auth/auth.decorators';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';

@ApiTags('machines')
@Controller('api')
export class MachinesController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly throttle: AuthThrottle,
  ) {}

  @Get('machines')
  @Auth('admin', 'machine')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'List machines (filter by status, capability, label; paginated)' })
  @ApiQueryOf(ListMachinesRequest)
  @ApiOkResponse({ schema: pageOf(MachineView) })
  @ApiErrors(400, 401)
  list(@Query() query: ListMachinesRequest): Promise<Page<MachineView>> {
    return this.rpc.call(RegistryRpc.listMachines, query);
  }

  @Get('machines/:id')
  @Auth('admin', 'machine')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'One machine, by id or name' })
  @ApiOkResponse({ schema: schemaRef(MachineView) })
  @ApiErrors(401, 404)
  get(@Param('id') id: string): Promise<MachineView> {
    return this.rpc.call(RegistryRpc.getMachine, { machine: id });
  }

  @Delete('machines/:id')
  @Auth('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Revoke a machine: its API credential and NATS user stop working at once' })
  @ApiOkResponse({ schema: schemaRef(MachineView) })
  @ApiErrors(401, 403, 404, 409)
  revoke(@Param('id') id: string): Promise<MachineView> {
    return this.rpc.call(RegistryRpc.revokeMachine, { machine: id });
  }

  @Post('machines/join')
  @Public()
  @HttpCode(201)
  @ApiOperation({ summary: "Join the hub with a join token; returns the machine's own credentials (shown once)" })
  @ApiBodyOf(JoinMachineBody)
  @ApiCreatedResponse({ schema: schemaRef(JoinResponse) })
  @ApiErrors(400, 401, 409)
  async join(@Body() body: JoinMachineBody, @Ip() address: string): Promise<JoinResponse> {
    try {
      return await this.rpc.call(RegistryRpc.join, { v: 1, ...body });
    } catch (error) {
      // A wrong join token counts against the address, like a wrong API token: guessing gets 429.
      if (error instanceof WaggleError && error.code === ErrorCode.Unauthenticated) {
        await this.throttle.failed('join', address);
      }
      throw error;
    }
  }

  @Post('join-tokens')
  @Auth('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Create a join token (shown once)' })
  @ApiBodyOf(CreateJoinTokenRequest)
  @ApiCreatedResponse({ schema: schemaRef(CreatedJoinToken) })
  @ApiErrors(400, 401, 403)
  createJoinToken(@Body() body: CreateJoinTokenRequest): Promise<CreatedJoinToken> {
    return this.rpc.call(RegistryRpc.createJoinToken, body);
  }
}
