import { QueueGroups } from '@waggle/contracts';
import { hubService } from '@waggle/service-kit';

import { LlmFailoverConfig } from './llm-failover.config';
import { LlmFailoverModule } from './llm-failover.module';

/** This app as a service a process hosts: alone (main.ts) or beside the others (`waggle up`). */
export const service = hubService({
  name: 'llm-failover',
  configType: LlmFailoverConfig,
  queue: QueueGroups.llmFailover,
  module: LlmFailoverModule.forRoot,
  opsPort: (c) => c.WAGGLE_LLM_FAILOVER_METRICS_PORT,
});
