import { Module } from '@nestjs/common';

import { StatsHandler } from './stats.handler';
import { StatsRepository } from './stats.repository';

/** Counts for the gateway's overview (GET /api/overview). */
@Module({
  controllers: [StatsHandler],
  providers: [StatsRepository],
})
export class StatsModule {}
