import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { Page } from '@waggle/contracts';
import { ActivityView, ListActivityQuery, TrackerRpc } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth } from '../auth/auth.decorators';
import { ApiErrors } from '../common/api-errors';
import { ApiQueryOf, pageOf } from '../common/contract-schema';

@ApiTags('activity')
@ApiBearerAuth()
@Controller('api/activity')
export class ActivityController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @Auth('admin')
  @ApiOperation({
    summary:
      'Every change made through the API, newest first: who (token or machine), what (method, route, path, status), when, from which address. Kept 90 days',
  })
  @ApiQueryOf(ListActivityQuery)
  @ApiOkResponse({ schema: pageOf(ActivityView) })
  @ApiErrors(400, 401)
  list(@Query() query: ListActivityQuery): Promise<Page<ActivityView>> {
    return this.rpc.call(TrackerRpc.listActivity, query);
  }
}
