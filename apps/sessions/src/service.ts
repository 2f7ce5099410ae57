import { QueueGroups } from '@waggle/contracts';
import { hubService } from '@waggle/service-kit';

import { SessionsServiceModule } from './sessions-service.module';
import { SessionsConfig } from './sessions.config';

/** This app as a service a process hosts: alone (main.ts) or beside the others (`waggle up`). */
export const service = hubService({
  name: 'sessions',
  configType: SessionsConfig,
  queue: QueueGroups.sessions,
  module: SessionsServiceModule.forRoot,
  opsPort: (c) => c.WAGGLE_SESSIONS_METRICS_PORT,
});
