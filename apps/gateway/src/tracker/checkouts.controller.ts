import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { Page } from '@waggle/contracts';
import { CheckoutView, ListCheckoutsQuery, TrackerRpc } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth } from '../auth/auth.decorators';
import { ApiErrors } from '../common/api-errors';
import { ApiQueryOf, pageOf } from '../common/contract-schema';

/** The git repositories machines report under their source folders (`waggle agent --source DIR`). */
@ApiTags('tracker')
@ApiBearerAuth()
@Controller('api/checkouts')
export class CheckoutsController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @Auth('viewer')
  @ApiOperation({
    summary:
      'Repositories checked out on machines (path, remote, branch, dirty, last commit), with the project each belongs to; filter by machine or project',
  })
  @ApiQueryOf(ListCheckoutsQuery)
  @ApiOkResponse({ schema: pageOf(CheckoutView) })
  @ApiErrors(400, 401, 404)
  list(@Query() query: ListCheckoutsQuery): Promise<Page<CheckoutView>> {
    return this.rpc.call(TrackerRpc.listCheckouts, query);
  }
}
