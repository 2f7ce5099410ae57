import { QueueGroups } from '@waggle/contracts';
import { bootstrapHubService } from '@waggle/service-kit';

import { TaskRouterConfig } from './task-router.config';
import { TaskRouterModule } from './task-router.module';

bootstrapHubService({
  name: 'task-router',
  configType: TaskRouterConfig,
  queue: QueueGroups.taskRouter,
  module: TaskRouterModule.forRoot,
  opsPort: (c) => c.WAGGLE_TASK_ROUTER_METRICS_PORT,
});
