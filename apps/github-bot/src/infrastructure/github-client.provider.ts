import type { Provider } from '@nestjs/common';

import { ErrorCode, parseVaultRef, WaggleError } from '@waggle/contracts';
import { createGithubClient } from '@waggle/github';
import { RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, readVaultSecret } from '@waggle/service-kit';

import { botToken, GithubBotConfig } from '../github-bot.config';
import { GithubBotMetrics } from './github-bot.metrics';
import { RateLimitState } from './rate-limit.state';
import { GITHUB } from './tokens';

/** How long the bot waits at start for a vault that does not answer yet (services start together). */
const VAULT_WAIT_MS = 120_000;

/**
 * The bot's token: as given, or read from the vault when given as `vault:NAME` (waiting for
 * the vault while it starts). A reference that cannot be read leaves the bot idle, as no
 * token does, and says why.
 */
async function tokenOf(given: string | null, rpc: RpcClient, logger: Logger): Promise<string | null> {
  const ref = parseVaultRef(given ?? undefined);
  if (!ref) {
    return given;
  }
  const deadline = Date.now() + VAULT_WAIT_MS;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await readVaultSecret(rpc, ref, 'github-bot');
    } catch (error) {
      const waiting =
        error instanceof WaggleError && (error.code === ErrorCode.Unavailable || error.code === ErrorCode.Timeout);
      if (!waiting || Date.now() > deadline) {
        logger.error(
          { ref: given, reason: error instanceof Error ? error.message : String(error) },
          'the GitHub token could not be read from the vault; the bot stays idle',
        );
        return null;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** The bot's GitHub client (null without a token): its rate-limit waits feed the shared state and the metric. */
export const githubClientProvider: Provider = {
  provide: GITHUB,
  inject: [GithubBotConfig, LOGGER, RateLimitState, GithubBotMetrics, RpcClient],
  useFactory: async (
    config: GithubBotConfig,
    logger: Logger,
    limits: RateLimitState,
    metrics: GithubBotMetrics,
    rpc: RpcClient,
  ) => {
    const token = await tokenOf(botToken(config), rpc, logger);
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
