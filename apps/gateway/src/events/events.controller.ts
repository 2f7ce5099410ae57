import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { Page, WaggleEvent } from '@waggle/contracts';
import { ListEventsRequest, MetricHistoryView, RegistryRpc, WaggleError } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { Auth, CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { ApiQueryOf, schemaRef } from '../common/contract-schema';
import { METRIC_SAMPLE_SPACING_MS } from './event-history';
import { eventVisibleTo } from './events.gateway';
import { EventsService } from './events.service';

const DEFAULT_EVENTS_PAGE = 50;
const MAX_EVENTS_PAGE = 200;

/** What the visor loads before /ws takes over: recent events, and a machine's last hour of heartbeats. */
@ApiTags('events')
@ApiBearerAuth()
@Controller('api')
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly rpc: RpcClient,
  ) {}

  @Get('events')
  @Auth('viewer', 'machine')
  @ApiOperation({
    summary:
      'Recent domain events, newest first (the last 2000 this gateway saw, from the EVENTS stream). A machine sees only events about itself.',
  })
  @ApiQueryOf(ListEventsRequest)
  @ApiOkResponse({ description: 'A page of events `{ items: [{ v, id, type, at, data }], nextCursor }`' })
  @ApiErrors(400, 401)
  list(@Query() query: ListEventsRequest, @CurrentPrincipal() principal: Principal): Page<WaggleEvent> {
    return this.events.history.page(
      Math.min(query.limit ?? DEFAULT_EVENTS_PAGE, MAX_EVENTS_PAGE),
      query.cursor,
      (event) => eventVisibleTo(principal, event),
    );
  }

  @Get('machines/:id/metrics')
  @Auth('viewer', 'machine')
  @ApiOperation({ summary: "A machine's heartbeat figures over the last hour (kept by the gateway), oldest first" })
  @ApiOkResponse({ schema: schemaRef(MetricHistoryView) })
  @ApiErrors(401, 404)
  async metrics(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<MetricHistoryView> {
    const machine = await this.rpc.call(RegistryRpc.getMachine, { machine: id });
    if (principal.kind === 'machine' && principal.machineId !== machine.id) {
      throw WaggleError.notFound('machine', id);
    }
    return {
      machineId: machine.id,
      spacingSeconds: METRIC_SAMPLE_SPACING_MS / 1000,
      samples: this.events.metrics.of(machine.id),
    };
  }
}
