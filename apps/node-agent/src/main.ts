import './small-heap';
import 'reflect-metadata';

import { InboxStore, readIdentity, writeIdentity } from '@waggle/agent-state';
import { loadConfigOrExit } from '@waggle/config';
import type { AgentCliName } from '@waggle/contracts';
import { createLogger } from '@waggle/observability';
import type { Logger } from '@waggle/observability';

import { ExitCode, NodeAgent } from './agent';
import { DEFAULT_CLI_COMMANDS, parseCliCommand } from './agent-clis';
import type * as GithubIdentityModule from './github/github-identity';
import type { GithubIdentity } from './github/github-issue-work';
import { joinHub, JoinRefusedError } from './join';
import { NodeAgentConfig } from './node-agent.config';
import { defaultWorkDir } from './work-dirs';
import { loadPatterns } from './sessions/screen-patterns';

/** Default invocations, with any WAGGLE_AGENT_CLI_<NAME> override. */
function cliCommands(config: NodeAgentConfig): Record<AgentCliName, string[]> {
  const overrides: Record<AgentCliName, string | undefined> = {
    claude: config.WAGGLE_AGENT_CLI_CLAUDE,
    codex: config.WAGGLE_AGENT_CLI_CODEX,
    gemini: config.WAGGLE_AGENT_CLI_GEMINI,
    ollama: config.WAGGLE_AGENT_CLI_OLLAMA,
  };
  const commands = { ...DEFAULT_CLI_COMMANDS };
  for (const [name, json] of Object.entries(overrides) as [AgentCliName, string | undefined][]) {
    if (json) {
      commands[name] = parseCliCommand(name, json);
    }
  }
  return commands;
}

/** This machine's GitHub identity, when it has a token: Octokit is loaded only then (it is MBs a Pi need not hold). */
function githubIdentity(config: NodeAgentConfig, machineName: string, logger: Logger): GithubIdentity | undefined {
  const token = config.WAGGLE_AGENT_GITHUB_TOKEN?.trim();
  if (!token) {
    return undefined;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { githubIdentityOf } = require('./github/github-identity') as typeof GithubIdentityModule;
  return githubIdentityOf(config, token, machineName, logger);
}

async function main() {
  const config = loadConfigOrExit(NodeAgentConfig);
  const logger = createLogger('node-agent', config.WAGGLE_LOG_LEVEL);
  const stopping = new AbortController();
  let identity = await readIdentity(config.WAGGLE_AGENT_STATE_DIR);
  if (!identity) {
    if (!config.WAGGLE_AGENT_HUB_URL || !config.WAGGLE_AGENT_JOIN_TOKEN || !config.WAGGLE_AGENT_NAME) {
      process.stderr.write(
        `This machine has not joined a hub yet (no identity in ${config.WAGGLE_AGENT_STATE_DIR}).\nRun: waggle agent --hub http://HUB:3000 --join-token TOKEN --name NAME\n`,
      );
      process.exit(2);
    }
    process.once('SIGINT', () => stopping.abort());
    process.once('SIGTERM', () => stopping.abort());
    try {
      identity = await joinHub({
        hubUrl: config.WAGGLE_AGENT_HUB_URL,
        joinToken: config.WAGGLE_AGENT_JOIN_TOKEN,
        name: config.WAGGLE_AGENT_NAME,
        labels: config.WAGGLE_AGENT_LABELS,
        logger,
        signal: stopping.signal,
      });
    } catch (error) {
      if (stopping.signal.aborted) {
        process.exit(0);
      }
      if (error instanceof JoinRefusedError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(2);
      }
      throw error;
    }
    await writeIdentity(config.WAGGLE_AGENT_STATE_DIR, identity);
    logger.info(
      { machineId: identity.machineId, name: identity.name, stateDir: config.WAGGLE_AGENT_STATE_DIR },
      'joined the hub; credential stored',
    );
  }
  const store = new InboxStore(config.WAGGLE_AGENT_STATE_DIR);
  await store.load();
  const agent = new NodeAgent({
    identity,
    store,
    stateDir: config.WAGGLE_AGENT_STATE_DIR,
    labels: config.WAGGLE_AGENT_LABELS,
    natsUrl: config.WAGGLE_AGENT_NATS_URL,
    inboxBatch: config.WAGGLE_AGENT_INBOX_BATCH,
    execution: {
      slots: config.WAGGLE_AGENT_SLOTS,
      allowCommand: config.WAGGLE_AGENT_ALLOW_COMMAND,
      allowShell: config.WAGGLE_AGENT_ALLOW_SHELL,
      github: !!config.WAGGLE_AGENT_GITHUB_TOKEN,
    },
    tasks: {
      workDir:
        config.WAGGLE_AGENT_WORK_DIR ??
        (await defaultWorkDir(config.WAGGLE_AGENT_STATE_DIR, config.XDG_CACHE_HOME || undefined)),
      killGraceMs: config.WAGGLE_AGENT_KILL_GRACE_MS,
      keepFailedMs: config.WAGGLE_AGENT_KEEP_FAILED_SECONDS * 1000,
      cliCommands: cliCommands(config),
      github: githubIdentity(config, identity.name, logger),
    },
    sessions: config.WAGGLE_AGENT_ALLOW_SESSIONS
      ? {
          watchMs: config.WAGGLE_AGENT_SESSIONS_WATCH_MS,
          maxSessions: config.WAGGLE_AGENT_MAX_SESSIONS,
          patterns: await loadPatterns(config.WAGGLE_AGENT_SESSION_PATTERNS_FILE),
        }
      : undefined,
    sources: { dirs: config.WAGGLE_AGENT_SOURCES, intervalMs: config.WAGGLE_AGENT_SOURCE_SCAN_INTERVAL_MS },
    cliPath: config.WAGGLE_AGENT_CLI_PATH,
    path: config.PATH,
    logger,
    stopGraceMs: config.WAGGLE_AGENT_STOP_GRACE_SECONDS * 1000,
    onRevoked: () => void agent.stop({ revoked: true }).finally(() => process.exit(ExitCode.revoked)),
  });
  let stoppingAgent = false;
  const shutdown = () => {
    stoppingAgent = true;
    void agent.stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  try {
    await agent.start();
  } catch (error) {
    // Stopped while starting (its connection is draining): the stop exits 0, this is no failure.
    if (!stoppingAgent) {
      throw error;
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`node-agent failed: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
