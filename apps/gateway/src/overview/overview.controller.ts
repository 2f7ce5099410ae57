import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { OverviewView } from '@waggle/contracts';

import { Auth } from '../auth/auth.decorators';
import { ApiErrors } from '../common/api-errors';
import { schemaRef } from '../common/contract-schema';
import { OverviewService } from './overview.service';

@ApiTags('overview')
@ApiBearerAuth()
@Controller('api/overview')
export class OverviewController {
  constructor(private readonly overview: OverviewService) {}

  @Get()
  @Auth('viewer')
  @ApiOperation({
    summary:
      'The fleet at a glance: machines online/total, tasks queued/running/done today/failed today, messages today, LLM spend today, open GitHub links (today = the UTC day; a service that did not answer is listed in `unavailable` and its figures are null)',
  })
  @ApiOkResponse({ schema: schemaRef(OverviewView) })
  @ApiErrors(401, 403)
  get(): Promise<OverviewView> {
    return this.overview.get();
  }
}
