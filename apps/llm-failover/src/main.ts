import { QueueGroups } from '@waggle/contracts';
import { bootstrapHubService } from '@waggle/service-kit';

import { LlmFailoverConfig } from './llm-failover.config';
import { LlmFailoverModule } from './llm-failover.module';

bootstrapHubService({
  name: 'llm-failover',
  configType: LlmFailoverConfig,
  queue: QueueGroups.llmFailover,
  module: LlmFailoverModule.forRoot,
  opsPort: (c) => c.WAGGLE_LLM_FAILOVER_METRICS_PORT,
});
