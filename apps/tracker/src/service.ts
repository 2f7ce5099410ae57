import { QueueGroups } from '@waggle/contracts';
import { hubService } from '@waggle/service-kit';

import { TrackerConfig } from './tracker.config';
import { TrackerModule } from './tracker.module';

/** This app as a service a process hosts: alone (main.ts) or beside the others (`waggle up`). */
export const service = hubService({
  name: 'tracker',
  configType: TrackerConfig,
  queue: QueueGroups.tracker,
  module: TrackerModule.forRoot,
  opsPort: (c) => c.WAGGLE_TRACKER_METRICS_PORT,
});
