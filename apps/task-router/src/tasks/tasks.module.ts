import { Module } from '@nestjs/common';

import { FleetService } from '../placement/fleet.service';
import { HelpRepository } from './help.repository';
import { HelpService } from './help.service';
import { LogsConsumer } from './logs.consumer';
import { SchedulerService } from './scheduler.service';
import { TaskRepository } from './task.repository';
import { TasksHandler } from './tasks.handler';
import { TasksService } from './tasks.service';

@Module({ controllers: [TasksHandler], providers: [TaskRepository, HelpRepository, HelpService, FleetService, TasksService, SchedulerService, LogsConsumer] })
export class TasksModule {}
