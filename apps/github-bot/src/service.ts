import { QueueGroups } from '@waggle/contracts';
import { hubService } from '@waggle/service-kit';

import { botToken, GithubBotConfig } from './github-bot.config';
import { GithubBotModule } from './github-bot.module';

/** This app as a service a process hosts: alone (main.ts) or beside the others (`waggle up`). */
export const service = hubService({
  name: 'github-bot',
  configType: GithubBotConfig,
  queue: QueueGroups.githubBot,
  module: GithubBotModule.forRoot,
  opsPort: (c) => c.WAGGLE_GITHUB_BOT_METRICS_PORT,
  readyDetails: (c) => ({ api: c.WAGGLE_GITHUB_API_URL, hasToken: !!botToken(c) }),
});
