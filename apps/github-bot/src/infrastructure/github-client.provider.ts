import type { Provider } from '@nestjs/common';

import { createGithubClient } from '@waggle/github';
import type { Logger } from '@waggle/observability';
import { LOGGER } from '@waggle/service-kit';

import { botToken, GithubBotConfig } from '../github-bot.config';
import { GithubBotMetrics } from './github-bot.metrics';
import { RateLimitState } from './rate-limit.state';
import { GITHUB } from './tokens';

/** The bot's GitHub client (null without a token): its rate-limit waits feed the shared state and the metric. */
export const githubClientProvider: Provider = {
  provide: GITHUB,
  inject: [GithubBotConfig, LOGGER, RateLimitState, GithubBotMetrics],
  useFactory: (config: GithubBotConfig, logger: Logger, limits: RateLimitState, metrics: GithubBotMetrics) => {
    const token = botToken(config);
    return token
      ? createGithubClient({
          token,
          baseUrl: config.WAGGLE_GITHUB_API_URL,
          logger: logger.child({ component: 'github' }),
          writeIntervalMs: config.WAGGLE_GITHUB_WRITE_INTERVAL_MS,
          onRateLimited: (seconds) => {
            metrics.rateLimitWaits.inc();
            limits.limited(seconds);
          },
        })
      : null;
  },
};
