import { Module } from '@nestjs/common';

import { BugsController } from './bugs.controller';
import { FeaturesController } from './features.controller';
import { MilestonesController } from './milestones.controller';
import { ProjectsController } from './projects.controller';

/** The tracker's HTTP edge: projects, milestones, features and bugs, forwarded over NATS. */
@Module({ controllers: [ProjectsController, MilestonesController, FeaturesController, BugsController] })
export class TrackerModule {}
