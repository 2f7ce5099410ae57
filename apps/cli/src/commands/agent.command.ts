import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

import type { Command } from 'commander';

import { childEnvironment } from '@waggle/config';
import { programPath } from '@waggle/local-infra';

import { defaultStateDir } from '../api-client';
import type { CliConfig } from '../cli.config';

/** The node-agent program: the CLI starts it as its own process, it does not import it. */
export function nodeAgentMain(): string {
  return programPath('node-agent');
}

export interface AgentFlags {
  hub?: string;
  joinToken?: string;
  name?: string;
  label: string[];
  stateDir?: string;
  natsUrl?: string;
  slots?: number;
  allowCommand?: boolean;
  allowShell?: boolean;
  allowSessions?: boolean;
  githubTokenFile?: string;
  githubApiUrl?: string;
  gitName?: string;
  gitEmail?: string;
  source?: string[];
}

/**
 * The node-agent's environment: this one, with each flag given set over its variable. A flag
 * not given leaves the variable as it is, so `WAGGLE_AGENT_*` set by the caller still count.
 */
export function agentEnvironment(flags: AgentFlags, stateDir: string): NodeJS.ProcessEnv {
  const given = (vars: Record<string, string | undefined>) =>
    Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined));
  return childEnvironment(
    given({
      WAGGLE_AGENT_STATE_DIR: stateDir,
      WAGGLE_AGENT_HUB_URL: flags.hub,
      WAGGLE_AGENT_JOIN_TOKEN: flags.joinToken,
      WAGGLE_AGENT_NAME: flags.name,
      WAGGLE_AGENT_LABELS: flags.label.length ? flags.label.join(',') : undefined,
      WAGGLE_AGENT_NATS_URL: flags.natsUrl,
      WAGGLE_AGENT_SLOTS: flags.slots === undefined ? undefined : String(flags.slots),
      WAGGLE_AGENT_ALLOW_COMMAND: flags.allowCommand ? 'true' : undefined,
      WAGGLE_AGENT_ALLOW_SHELL: flags.allowShell ? 'true' : undefined,
      WAGGLE_AGENT_ALLOW_SESSIONS: flags.allowSessions ? 'true' : undefined,
      WAGGLE_AGENT_GITHUB_TOKEN_FILE: flags.githubTokenFile && resolve(flags.githubTokenFile),
      WAGGLE_AGENT_GITHUB_API_URL: flags.githubApiUrl,
      WAGGLE_AGENT_GIT_NAME: flags.gitName,
      WAGGLE_AGENT_GIT_EMAIL: flags.gitEmail,
      WAGGLE_AGENT_SOURCES: flags.source?.length ? flags.source.map((dir) => resolve(dir)).join(',') : undefined,
      // Tasks get a `waggle` command (for `waggle help`) that runs this very CLI.
      WAGGLE_AGENT_CLI_PATH: programPath('cli'),
    }),
  );
}

export function registerAgent(program: Command, config: CliConfig) {
  program
    .command('agent')
    .description('run the node-agent: join a hub (first time) and serve this machine')
    .option('--hub <url>', 'hub URL, e.g. http://hub:3000 (first time)')
    .option('--join-token <token>', 'join token (first time)')
    .option('--name <name>', 'name of this machine (first time)')
    .option(
      '--label <label>',
      'a label, repeatable (gpu=4090)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--state-dir <dir>', 'where identity and inbox are kept')
    .option('--nats-url <url>', 'override the NATS URL the hub announces')
    .option('--slots <n>', 'tasks run at once (default 1)', (v) => Number(v))
    .option('--allow-command', 'run `command` tasks (programs with arguments)')
    .option('--allow-shell', 'run `shell` tasks (scripts)')
    .option('--allow-sessions', 'serve agent sessions: the hub may start programs here in tmux and type into them')
    .option(
      '--github-token-file <file>',
      "this machine's GitHub token: it runs github-issue tasks (clone, push, pull requests) as itself",
    )
    .option('--github-api-url <url>', 'GitHub API root (GitHub Enterprise: https://HOST/api/v3)')
    .option('--git-name <name>', 'git author of its commits (default waggle-<name>)')
    .option('--git-email <email>', 'git author email of its commits')
    .option(
      '--source <dir>',
      'a folder whose git repositories this machine reports (for `waggle projects import`), repeatable',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(async (flags: AgentFlags) => {
      const stateDir = resolve(flags.stateDir ?? defaultStateDir(config));
      const env = agentEnvironment(flags, stateDir);
      // The CLI becomes the node-agent (same pid, nothing left of the CLI in memory): one
      // process per machine, and a service manager's signals reach the agent itself.
      if (process.execve) {
        process.execve(process.execPath, [process.execPath, nodeAgentMain()], env);
      }
      const child = spawn(process.execPath, [nodeAgentMain()], { stdio: 'inherit', env });
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.on(signal, () => child.kill(signal));
      }
      const code = await new Promise<number>((done) => child.once('exit', (c, s) => done(c ?? (s ? 128 : 1))));
      process.exitCode = code;
    });
}
