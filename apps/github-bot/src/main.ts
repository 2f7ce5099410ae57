import { QueueGroups } from '@waggle/contracts';
import { bootstrapHubService } from '@waggle/service-kit';

import { botToken, GithubBotConfig } from './github-bot.config';
import { GithubBotModule } from './github-bot.module';

bootstrapHubService({
  name: 'github-bot',
  configType: GithubBotConfig,
  queue: QueueGroups.githubBot,
  module: GithubBotModule.forRoot,
  opsPort: (c) => c.WAGGLE_GITHUB_BOT_METRICS_PORT,
  readyDetails: (c) => ({ api: c.WAGGLE_GITHUB_API_URL, hasToken: !!botToken(c) }),
});
