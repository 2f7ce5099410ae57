import { createGithubClient } from '@waggle/github';
import type { Logger } from '@waggle/observability';

import type { NodeAgentConfig } from '../node-agent.config';
import type { GithubIdentity } from './github-issue-work';

/** This machine's GitHub identity from its token (main.ts loads this file, and Octokit, only when there is one). */
export function githubIdentityOf(
  config: NodeAgentConfig,
  token: string,
  machineName: string,
  logger: Logger,
): GithubIdentity {
  return {
    token,
    client: createGithubClient({
      token,
      baseUrl: config.WAGGLE_AGENT_GITHUB_API_URL,
      writeIntervalMs: config.WAGGLE_AGENT_GITHUB_WRITE_INTERVAL_MS,
      logger: logger.child({ component: 'github' }),
    }),
    gitName: config.WAGGLE_AGENT_GIT_NAME ?? `waggle-${machineName}`,
    gitEmail: config.WAGGLE_AGENT_GIT_EMAIL ?? `waggle-${machineName}@users.noreply.github.com`,
  };
}
