import { QueueGroups } from '@waggle/contracts';
import { hubService } from '@waggle/service-kit';

import { VaultConfig } from './vault.config';
import { VaultModule } from './vault.module';

/** This app as a service a process hosts: alone (main.ts) or beside the others (`waggle up`). */
export const service = hubService({
  name: 'vault',
  configType: VaultConfig,
  queue: QueueGroups.vault,
  module: VaultModule.forRoot,
  opsPort: (c) => c.WAGGLE_VAULT_METRICS_PORT,
});
