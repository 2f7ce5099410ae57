import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import Bottleneck from 'bottleneck';

import type { Logger } from '@waggle/observability';

const GithubOctokit = Octokit.plugin(throttling, retry);
export type GithubClient = InstanceType<typeof GithubOctokit>;

export interface GithubClientOptions {
  token: string;
  /** API root: https://api.github.com, or GitHub Enterprise's https://HOST/api/v3. */
  baseUrl: string;
  logger: Logger;
  /**
   * Least time between two writes (GitHub asks for one second; content-creating writes
   * that notify people get three). Tests against a local server lower it.
   */
  writeIntervalMs?: number;
  /** Rate-limit waits longer than this are not waited for: the call fails and the caller retries later. */
  maxRateLimitWaitSeconds?: number;
  /** Told of every rate-limit wait (seconds from now). */
  onRateLimited?: (retryAfterSeconds: number, route: string) => void;
}

/** GitHub's answer to a failed call: its status and message (never the request's headers). */
export function githubErrorOf(error: unknown): { status: number | null; message: string } {
  const e = error as { status?: unknown; message?: unknown; response?: { data?: { message?: unknown } } };
  const status = typeof e.status === 'number' ? e.status : null;
  const message =
    typeof e.response?.data?.message === 'string'
      ? e.response.data.message
      : typeof e.message === 'string'
        ? e.message
        : String(error);
  return { status, message };
}

/** `owner/name` as Octokit's `{ owner, repo }`; anything else is a bug upstream (repos are validated on the way in). */
export function splitRepo(fullName: string): { owner: string; repo: string } {
  const [owner, repo] = fullName.split('/');
  if (!owner || !repo) {
    throw new Error(`not an owner/name repository: ${fullName}`);
  }
  return { owner, repo };
}

/**
 * An Octokit for one identity, with GitHub's rules for well-behaved clients: writes spaced
 * out, primary and secondary rate limits waited out (Retry-After, x-ratelimit-reset) up to
 * a limit, 5xx and network failures retried with backoff. Its log is Waggle's, at debug.
 */
export function createGithubClient(options: GithubClientOptions): GithubClient {
  const { logger } = options;
  const write = options.writeIntervalMs ?? 1000;
  const maxWait = options.maxRateLimitWaitSeconds ?? 900;
  const onLimit = (
    retryAfter: number,
    route: { method: string; url: string },
    _octokit: unknown,
    retryCount: number,
  ): boolean => {
    const name = `${route.method} ${route.url}`;
    options.onRateLimited?.(retryAfter, name);
    const wait = retryCount < 3 && retryAfter <= maxWait;
    logger.warn({ route: name, retryAfterSeconds: retryAfter, retryCount, waiting: wait }, 'GitHub rate limit');
    return wait;
  };
  return new GithubOctokit({
    auth: options.token,
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    userAgent: 'waggle',
    log: {
      debug: (message: string) => logger.debug({ github: message }),
      info: (message: string) => logger.debug({ github: message }),
      warn: (message: string) => logger.warn({ github: message }),
      // Octokit reports every non-2xx here (a 304 or an expected 404 too): the caller decides what is an error.
      error: (message: string) => logger.debug({ github: message }),
    },
    throttle: {
      id: `waggle-${Math.random().toString(36).slice(2)}`,
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: write }),
      notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: write * 3 }),
      onRateLimit: onLimit,
      onSecondaryRateLimit: onLimit,
    },
    retry: { doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451] },
  });
}
