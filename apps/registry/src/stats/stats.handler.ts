import { Controller } from '@nestjs/common';

import { RegistryRpc, StatsRequest } from '@waggle/contracts';
import { HandleRpc } from '@waggle/service-kit';

import { StatsRepository } from './stats.repository';

@Controller()
export class StatsHandler {
  constructor(private readonly stats: StatsRepository) {}

  @HandleRpc(RegistryRpc.stats)
  count(req: StatsRequest) {
    return this.stats.count(new Date(req.since));
  }
}
