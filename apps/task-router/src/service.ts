import { QueueGroups } from '@waggle/contracts';
import { hubService } from '@waggle/service-kit';

import { TaskRouterConfig } from './task-router.config';
import { TaskRouterModule } from './task-router.module';

/** This app as a service a process hosts: alone (main.ts) or beside the others (`waggle up`). */
export const service = hubService({
  name: 'task-router',
  configType: TaskRouterConfig,
  queue: QueueGroups.taskRouter,
  module: TaskRouterModule.forRoot,
  opsPort: (c) => c.WAGGLE_TASK_ROUTER_METRICS_PORT,
});
