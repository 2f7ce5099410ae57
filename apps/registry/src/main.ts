import { QueueGroups } from '@waggle/contracts';
import { bootstrapHubService } from '@waggle/service-kit';

import { RegistryConfig } from './registry.config';
import { RegistryModule } from './registry.module';

bootstrapHubService({
  name: 'registry',
  configType: RegistryConfig,
  queue: QueueGroups.registry,
  module: RegistryModule.forRoot,
  opsPort: (c) => c.WAGGLE_REGISTRY_METRICS_PORT,
});
