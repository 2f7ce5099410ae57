import { Body, Controller, Delete, Get, Param, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { DeletedReply, MilestoneView, TrackerRpc, UpdateMilestoneBody } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth, CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { senderOf } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, schemaRef } from '../common/contract-schema';
import { uuidOf } from './tracker-params';

const milestoneId = uuidOf('milestone');

@ApiTags('tracker')
@ApiBearerAuth()
@Controller('api/milestones')
export class MilestonesController {
  constructor(private readonly rpc: RpcClient) {}

  @Get(':id')
  @Auth('viewer')
  @ApiOperation({ summary: 'A milestone with its progress (items closed of all)' })
  @ApiOkResponse({ schema: schemaRef(MilestoneView) })
  @ApiErrors(400, 401, 404)
  get(@Param('id', milestoneId) id: string): Promise<MilestoneView> {
    return this.rpc.call(TrackerRpc.getMilestone, { milestoneId: id });
  }

  @Patch(':id')
  @Auth('operator')
  @ApiOperation({ summary: 'Change a milestone, close it, or move it in the order' })
  @ApiBodyOf(UpdateMilestoneBody)
  @ApiOkResponse({ schema: schemaRef(MilestoneView) })
  @ApiErrors(400, 401, 404)
  update(
    @Param('id', milestoneId) id: string,
    @Body() body: UpdateMilestoneBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<MilestoneView> {
    return this.rpc.call(TrackerRpc.updateMilestone, { v: 1, ...body, milestoneId: id, actor: senderOf(principal) });
  }

  @Delete(':id')
  @Auth('operator')
  @ApiOperation({ summary: 'Delete a milestone (its items stay, without one)' })
  @ApiOkResponse({ schema: schemaRef(DeletedReply) })
  @ApiErrors(400, 401, 404)
  delete(@Param('id', milestoneId) id: string, @CurrentPrincipal() principal: Principal): Promise<DeletedReply> {
    return this.rpc.call(TrackerRpc.deleteMilestone, { milestoneId: id, actor: senderOf(principal) });
  }
}
