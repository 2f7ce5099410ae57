import { QueueGroups } from '@waggle/contracts';
import { hubService } from '@waggle/service-kit';

import { RegistryConfig } from './registry.config';
import { RegistryModule } from './registry.module';

/** This app as a service a process hosts: alone (main.ts) or beside the others (`waggle up`). */
export const service = hubService({
  name: 'registry',
  configType: RegistryConfig,
  queue: QueueGroups.registry,
  module: RegistryModule.forRoot,
  opsPort: (c) => c.WAGGLE_REGISTRY_METRICS_PORT,
});
