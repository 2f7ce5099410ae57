import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

import type { Logger } from '@waggle/observability';
import { HubServiceModule } from '@waggle/service-kit';

import { ActivityHandler } from './activity/activity.handler';
import { ActivityRepository } from './activity/activity.repository';
import { ActivityService } from './activity/activity.service';
import { AssignHandler } from './assignments/assign.handler';
import { AssignService } from './assignments/assign.service';
import { GithubLinksConsumer } from './assignments/github-links.consumer';
import { TaskEventsConsumer } from './assignments/task-events.consumer';
import { CheckoutRepository } from './checkouts/checkout.repository';
import { CheckoutsHandler } from './checkouts/checkouts.handler';
import { CheckoutsService } from './checkouts/checkouts.service';
import { ErrorRepository } from './errors/error.repository';
import { ErrorsHandler } from './errors/errors.handler';
import { ErrorsService } from './errors/errors.service';
import { IngestService } from './errors/ingest.service';
import { ItemRepository } from './items/item.repository';
import { ItemsHandler } from './items/items.handler';
import { ItemsService } from './items/items.service';
import { trackerMigrations } from './migrations';
import { MilestoneRepository } from './milestones/milestone.repository';
import { MilestonesHandler } from './milestones/milestones.handler';
import { MilestonesService } from './milestones/milestones.service';
import { PlanRepository } from './plans/plan.repository';
import { PlansHandler } from './plans/plans.handler';
import { PlansService } from './plans/plans.service';
import { LabelledIssuesService } from './projects/labelled-issues.service';
import { ProjectRepository } from './projects/project.repository';
import { ProjectsHandler } from './projects/projects.handler';
import { ProjectsService } from './projects/projects.service';
import { TrackerConfig } from './tracker.config';

@Module({})
export class TrackerModule {
  static forRoot(this: void, config: TrackerConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: TrackerModule,
      imports: [
        HubServiceModule.forRoot({
          name: 'tracker',
          schema: 'tracker',
          config,
          configType: TrackerConfig,
          logger,
          metrics,
          migrations: trackerMigrations,
        }),
      ],
      controllers: [
        ProjectsHandler,
        MilestonesHandler,
        ItemsHandler,
        AssignHandler,
        CheckoutsHandler,
        ActivityHandler,
        PlansHandler,
        ErrorsHandler,
      ],
      providers: [
        ProjectRepository,
        ProjectsService,
        LabelledIssuesService,
        MilestoneRepository,
        MilestonesService,
        ItemRepository,
        ItemsService,
        AssignService,
        TaskEventsConsumer,
        GithubLinksConsumer,
        CheckoutRepository,
        CheckoutsService,
        ActivityRepository,
        ActivityService,
        PlanRepository,
        PlansService,
        ErrorRepository,
        IngestService,
        ErrorsService,
      ],
    };
  }
}
