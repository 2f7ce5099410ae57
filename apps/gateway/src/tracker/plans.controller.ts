import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { AcceptPlanBody, AcceptPlanReply, PlanBody, PlanView, TrackerRpc } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth, CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { senderOf } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, schemaRef } from '../common/contract-schema';
import { projectRef, uuidOf } from './tracker-params';

const planId = uuidOf('plan');
/** A machine reads the checkout, then the model thinks: both take a while. */
const PLAN_TIMEOUT_MS = 200_000;

/** Milestone plans proposed by the LLM: shown first, created only for the features a person accepts. */
@ApiTags('tracker')
@ApiBearerAuth()
@Controller('api')
export class PlansController {
  constructor(private readonly rpc: RpcClient) {}

  @Post('projects/:project/plan')
  @Auth('operator')
  @ApiOperation({
    summary:
      'Plan the next milestone: a machine with the project checked out reads its README and TODO/FIXME comments, the open bugs are added, and the LLM gateway proposes a milestone and features. Nothing is created until they are accepted',
  })
  @ApiBodyOf(PlanBody)
  @ApiCreatedResponse({ schema: schemaRef(PlanView) })
  @ApiErrors(400, 401, 404, 409, 503)
  plan(
    @Param('project', projectRef) project: string,
    @Body() body: PlanBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<PlanView> {
    return this.rpc.call(TrackerRpc.plan, { v: 1, ...body, project, actor: senderOf(principal) }, PLAN_TIMEOUT_MS);
  }

  @Get('plans/:id')
  @Auth('viewer')
  @ApiOperation({ summary: 'A proposed plan, with what it was made from' })
  @ApiOkResponse({ schema: schemaRef(PlanView) })
  @ApiErrors(400, 401, 404)
  get(@Param('id', planId) id: string): Promise<PlanView> {
    return this.rpc.call(TrackerRpc.getPlan, { planId: id });
  }

  @Post('plans/:id/accept')
  @HttpCode(200)
  @Auth('operator')
  @ApiOperation({
    summary:
      'Accept some of a plan: its milestone is made with the accepted features (status planned); the others are dropped. Once per plan (409 after)',
  })
  @ApiBodyOf(AcceptPlanBody)
  @ApiOkResponse({ schema: schemaRef(AcceptPlanReply) })
  @ApiErrors(400, 401, 404, 409)
  accept(
    @Param('id', planId) id: string,
    @Body() body: AcceptPlanBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<AcceptPlanReply> {
    return this.rpc.call(TrackerRpc.acceptPlan, { v: 1, ...body, planId: id, actor: senderOf(principal) });
  }
}
