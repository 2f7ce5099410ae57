import { Module } from '@nestjs/common';

import { FleetService } from '../placement/fleet.service';
import { HelpRepository } from './help.repository';
import { HelpService } from './help.service';
import { LogsConsumer } from './logs.consumer';
import { SchedulerService } from './scheduler.service';
import { TaskLogRepository } from './task-log.repository';
import { TaskStatsRepository } from './task-stats.repository';
import { TaskViewRepository } from './task-view.repository';
import { TaskRepository } from './task.repository';
import { TasksHandler } from './tasks.handler';
import { TasksService } from './tasks.service';

@Module({
  controllers: [TasksHandler],
  providers: [
    TaskRepository,
    TaskViewRepository,
    TaskLogRepository,
    TaskStatsRepository,
    HelpRepository,
    HelpService,
    FleetService,
    TasksService,
    SchedulerService,
    LogsConsumer,
  ],
})
export class TasksModule {}
