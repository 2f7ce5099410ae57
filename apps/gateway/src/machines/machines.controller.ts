import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Ip,
  Param,
  ParseEnumPipe,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';

import type { MachinePermission, Page } from '@waggle/contracts';
import {
  CreatedJoinToken,
  CreateJoinTokenBody,
  ErrorCode,
  JoinMachineBody,
  JoinResponse,
  ListMachinesRequest,
  MACHINE_PERMISSIONS,
  MachineView,
  RegistryRpc,
  WaggleError,
} from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { AuthThrottle } from '../auth/auth-throttle';
import { Auth, CurrentPrincipal, Public } from '../auth/auth.decorators';
import { AuthService } from '../auth/auth.service';
import type { Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';
import { ApiIdempotencyKey, callerScope, joinScope, secretIdempotencyOf } from '../common/idempotency';

const permission = new ParseEnumPipe(MACHINE_PERMISSIONS, {
  exceptionFactory: () =>
    WaggleError.invalid(`permission must be one of ${MACHINE_PERMISSIONS.join(', ')}`, [
      { field: 'permission', errors: [`must be one of ${MACHINE_PERMISSIONS.join(', ')}`] },
    ]),
});

@ApiTags('machines')
@Controller('api')
export class MachinesController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly throttle: AuthThrottle,
    private readonly auth: AuthService,
  ) {}

  @Get('machines')
  @Auth('viewer', 'machine')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'List machines (filter by status, capability, label; paginated)' })
  @ApiQueryOf(ListMachinesRequest)
  @ApiOkResponse({ schema: pageOf(MachineView) })
  @ApiErrors(400, 401)
  list(@Query() query: ListMachinesRequest): Promise<Page<MachineView>> {
    return this.rpc.call(RegistryRpc.listMachines, query);
  }

  @Get('machines/:id')
  @Auth('viewer', 'machine')
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
  async revoke(@Param('id') id: string): Promise<MachineView> {
    const revoked = await this.rpc.call(RegistryRpc.revokeMachine, { machine: id });
    // Refused here from this answer on; other replicas drop it on the machine.revoked event.
    this.auth.forgetMachine(revoked.id);
    return revoked;
  }

  @Put('machines/:id/permissions/:permission')
  @Auth('admin')
  @ApiBearerAuth()
  @ApiOperation({
    summary:
      'Grant a machine a permission. dispatch: it may create tasks through the API (never shell or command tasks for other machines)',
  })
  @ApiParam({ name: 'permission', enum: MACHINE_PERMISSIONS })
  @ApiOkResponse({ schema: schemaRef(MachineView) })
  @ApiErrors(400, 401, 403, 404, 409)
  grant(@Param('id') id: string, @Param('permission', permission) name: MachinePermission): Promise<MachineView> {
    return this.rpc.call(RegistryRpc.setMachinePermission, { machine: id, permission: name, granted: true });
  }

  @Delete('machines/:id/permissions/:permission')
  @Auth('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Withdraw a permission from a machine' })
  @ApiParam({ name: 'permission', enum: MACHINE_PERMISSIONS })
  @ApiOkResponse({ schema: schemaRef(MachineView) })
  @ApiErrors(400, 401, 403, 404, 409)
  withdraw(@Param('id') id: string, @Param('permission', permission) name: MachinePermission): Promise<MachineView> {
    return this.rpc.call(RegistryRpc.setMachinePermission, { machine: id, permission: name, granted: false });
  }

  @Post('machines/join')
  @Public()
  @HttpCode(201)
  @ApiOperation({
    summary:
      "Join the hub with a join token; returns the machine's own credentials (shown once, or again to a repeat with the same Idempotency-Key)",
  })
  @ApiBodyOf(JoinMachineBody)
  @ApiCreatedResponse({ schema: schemaRef(JoinResponse) })
  @ApiErrors(400, 401, 409, 422, 429)
  @ApiIdempotencyKey()
  async join(
    @Body() body: JoinMachineBody,
    @Ip() address: string,
    @Headers('idempotency-key') key: string | undefined,
  ): Promise<JoinResponse> {
    this.throttle.joinAttempt(body.joinToken, address);
    try {
      return await this.rpc.call(RegistryRpc.join, {
        v: 1,
        ...body,
        ...secretIdempotencyOf(joinScope(body.joinToken), key, body),
      });
    } catch (error) {
      // A wrong join token counts against the address and itself, like a wrong API token: guessing gets 429.
      if (error instanceof WaggleError && error.code === ErrorCode.Unauthenticated) {
        this.throttle.failed('join', body.joinToken, address);
      }
      throw error;
    }
  }

  @Post('join-tokens')
  @Auth('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Create a join token (shown once, or again to a repeat with the same Idempotency-Key)' })
  @ApiBodyOf(CreateJoinTokenBody)
  @ApiCreatedResponse({ schema: schemaRef(CreatedJoinToken) })
  @ApiErrors(400, 401, 403, 422, 429)
  @ApiIdempotencyKey()
  createJoinToken(
    @Body() body: CreateJoinTokenBody,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') key: string | undefined,
  ): Promise<CreatedJoinToken> {
    return this.rpc.call(RegistryRpc.createJoinToken, {
      ...body,
      ...secretIdempotencyOf(callerScope(principal), key, body),
    });
  }
}
