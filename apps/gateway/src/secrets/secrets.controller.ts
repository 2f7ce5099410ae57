import { Body, Controller, Delete, Get, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

import type { Page, SecretActor } from '@waggle/contracts';
import {
  CreateSecretBody,
  ListSecretAuditQuery,
  ListSecretsQuery,
  RevealedSecret,
  RotationView,
  SecretAuditView,
  SecretRefQuery,
  SecretView,
  UpdateSecretBody,
  VaultKeysView,
  VaultRpc,
} from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth, CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, ApiQueryOf, pageOf, schemaRef } from '../common/contract-schema';
import { VaultSealer } from './vault-sealer';

/** A rotation re-wraps every data key before it answers. */
const ROTATE_TIMEOUT_MS = 300_000;

function actorOf(principal: Principal, req: FastifyRequest): SecretActor {
  return { kind: principal.kind, name: principal.name, from: req.ip };
}

/**
 * The vault's HTTP edge. Values go in (create, update) and come out only through an admin's
 * reveal, which the vault logs and counts; lists and reads carry metadata only.
 */
@ApiTags('secrets')
@ApiBearerAuth()
@Controller('api')
export class SecretsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly sealer: VaultSealer,
  ) {}

  @Post('secrets')
  @Auth('admin')
  @ApiOperation({
    summary: 'Store a secret (encrypted; the value is never shown in lists). Names are unique per scope',
  })
  @ApiBodyOf(CreateSecretBody)
  @ApiCreatedResponse({ schema: schemaRef(SecretView) })
  @ApiErrors(400, 401, 403, 409, 413)
  create(
    @Body() body: CreateSecretBody,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<SecretView> {
    const { value, ...rest } = body;
    return this.sealer.send(value, (sealedValue) =>
      this.rpc.call(VaultRpc.create, { v: 1, ...rest, sealedValue: sealedValue!, actor: actorOf(principal, req) }),
    );
  }

  @Get('secrets')
  @Auth('admin')
  @ApiOperation({
    summary:
      'Secrets without their values: name, category, scope, description, created, updated, last accessed, access count (newest first; paginated)',
  })
  @ApiQueryOf(ListSecretsQuery)
  @ApiOkResponse({ schema: pageOf(SecretView) })
  @ApiErrors(400, 401, 403)
  list(@Query() query: ListSecretsQuery): Promise<Page<SecretView>> {
    return this.rpc.call(VaultRpc.list, query);
  }

  @Get('secrets/audit')
  @Auth('admin')
  @ApiOperation({
    summary:
      'The audit trail: every create, update, reveal, use by a task, refusal, rotation and delete (newest first; paginated)',
  })
  @ApiQueryOf(ListSecretAuditQuery)
  @ApiOkResponse({ schema: pageOf(SecretAuditView) })
  @ApiErrors(400, 401, 403)
  audit(@Query() query: ListSecretAuditQuery): Promise<Page<SecretAuditView>> {
    return this.rpc.call(VaultRpc.audit, query);
  }

  @Get('secrets/:ref')
  @Auth('admin')
  @ApiOperation({ summary: 'A secret by id, or by name (in `project`, else global), without its value' })
  @ApiQueryOf(SecretRefQuery)
  @ApiOkResponse({ schema: schemaRef(SecretView) })
  @ApiErrors(400, 401, 403, 404)
  get(
    @Param('ref') ref: string,
    @Query() query: SecretRefQuery,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<SecretView> {
    return this.rpc.call(VaultRpc.get, { ref, ...query, actor: actorOf(principal, req) });
  }

  @Post('secrets/:ref/reveal')
  @Auth('admin')
  @ApiOperation({ summary: "An admin reveals a secret's value: logged in the audit trail and counted" })
  @ApiQueryOf(SecretRefQuery)
  @ApiCreatedResponse({ schema: schemaRef(RevealedSecret) })
  @ApiErrors(400, 401, 403, 404)
  reveal(
    @Param('ref') ref: string,
    @Query() query: SecretRefQuery,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<RevealedSecret> {
    return this.sealer.reveal((revealTo) =>
      this.rpc.call(VaultRpc.reveal, { ref, ...query, revealTo, actor: actorOf(principal, req) }),
    );
  }

  @Patch('secrets/:ref')
  @Auth('admin')
  @ApiOperation({ summary: 'A new value (under a new data key) and/or category and description; name and scope stay' })
  @ApiQueryOf(SecretRefQuery)
  @ApiBodyOf(UpdateSecretBody)
  @ApiOkResponse({ schema: schemaRef(SecretView) })
  @ApiErrors(400, 401, 403, 404)
  update(
    @Param('ref') ref: string,
    @Query() query: SecretRefQuery,
    @Body() body: UpdateSecretBody,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<SecretView> {
    const { value, ...rest } = body;
    return this.sealer.send(value, (sealedValue) =>
      this.rpc.call(VaultRpc.update, { v: 1, ...rest, sealedValue, ref, ...query, actor: actorOf(principal, req) }),
    );
  }

  @Delete('secrets/:ref')
  @Auth('admin')
  @ApiOperation({ summary: 'Delete a secret (tasks naming it are refused from now on)' })
  @ApiQueryOf(SecretRefQuery)
  @ApiOkResponse({ schema: schemaRef(SecretView) })
  @ApiErrors(400, 401, 403, 404)
  delete(
    @Param('ref') ref: string,
    @Query() query: SecretRefQuery,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<SecretView> {
    return this.rpc.call(VaultRpc.delete, { ref, ...query, actor: actorOf(principal, req) });
  }

  @Get('vault/keys')
  @Auth('admin')
  @ApiOperation({
    summary: "The vault's key versions: the active one, retired ones, and how many data keys each wraps",
  })
  @ApiOkResponse({ schema: schemaRef(VaultKeysView) })
  @ApiErrors(401, 403)
  keys(): Promise<VaultKeysView> {
    return this.rpc.call(VaultRpc.keys, { v: 1 });
  }

  @Post('vault/rotate')
  @Auth('admin')
  @ApiOperation({
    summary:
      'Rotate the key: a new key version wraps every data key (reads and writes go on meanwhile), then the old version is destroyed',
  })
  @ApiCreatedResponse({ schema: schemaRef(RotationView) })
  @ApiErrors(401, 403, 409)
  rotate(@CurrentPrincipal() principal: Principal, @Req() req: FastifyRequest): Promise<RotationView> {
    return this.rpc.call(VaultRpc.rotate, { v: 1, actor: actorOf(principal, req) }, ROTATE_TIMEOUT_MS);
  }
}
