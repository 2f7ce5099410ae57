import { Module } from '@nestjs/common';

import { BugsController } from './bugs.controller';
import { CheckoutsController } from './checkouts.controller';
import { FeaturesController } from './features.controller';
import { MilestonesController } from './milestones.controller';
import { PlansController } from './plans.controller';
import { ProjectsController } from './projects.controller';

/** The tracker's HTTP edge: projects, milestones, features and bugs, forwarded over NATS. */
@Module({
  controllers: [
    ProjectsController,
    MilestonesController,
    FeaturesController,
    BugsController,
    CheckoutsController,
    PlansController,
  ],
})
export class TrackerModule {}
