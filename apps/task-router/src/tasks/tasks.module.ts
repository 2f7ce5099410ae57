import { Module } from '@nestjs/common';

import { FleetService } from '../placement/fleet.service';
import { HelpRepository } from './help.repository';
import { HelpService } from './help.service';
import { LogsConsumer } from './logs.consumer';
import { SchedulerService } from './scheduler.service';
import { TaskStatsRepository } from './task-stats.repository';
import { TaskRepository } from './task.repository';
import { TasksHandler } from './tasks.handler';
import { TasksService } from './tasks.service';

@Module({
  providers: [TaskRepository, TaskStatsRepository, HelpRepository, HelpService, FleetService, TasksService, SchedulerService, TasksHandler, LogsConsumer],
})
export class TasksModule {}
