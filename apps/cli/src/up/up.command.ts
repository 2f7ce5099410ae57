import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import type { Command } from 'commander';

import { readIdentity } from '@waggle/agent-state';
import { childEnvironment } from '@waggle/config';
import type { CreatedJoinToken } from '@waggle/contracts';
import { NAME_PATTERN } from '@waggle/contracts';
import { authMaterialFiles, newToken, TokenPrefix } from '@waggle/credentials';
import {
  findNatsServer,
  freePort,
  HUB_SERVICES,
  LocalNatsServer,
  LocalPostgres,
  NATS_INSTALL_HELP,
} from '@waggle/local-infra';
import type { HostingReport } from '@waggle/service-kit';

import { ApiClient, CliError } from '../api-client';
import type { CliConfig } from '../cli.config';
import { agentEnvironment, nodeAgentMain } from '../commands/agent.command';
import { out } from '../output';
import { Supervisor } from './supervisor';

const REGISTRY_METRICS_PORT = 9101;

/** The entry that hosts the hub's services in one process (up/hub-host.ts, compiled beside this file). */
function hubHostMain(): string {
  return join(__dirname, 'hub-host.js');
}

/**
 * The port used last time, so machines that joined keep reaching NATS; else `preferred`
 * if free, else any free port. Remembered in `file`.
 */
async function stablePort(file: string, preferred: number): Promise<number> {
  const previous = Number((await readFile(file, 'utf8').catch(() => '')).trim()) || 0;
  const port = await freePort(previous || preferred);
  if (previous && port !== previous) {
    out.error(`[waggle] NATS port ${previous} is taken; using ${port} (joined machines must be told: --nats-url)`);
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, String(port));
  return port;
}

/** The key that seals the GitHub bot's webhook secrets: made once (random), kept under WAGGLE_HOME. */
async function stableSecretsKey(file: string): Promise<string> {
  const previous = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (previous) {
    return previous;
  }
  const key = randomBytes(32).toString('base64');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, key, { mode: 0o600 });
  return key;
}

/** Whether `name` signs in with `password` (the session it makes is ended at once). */
async function signsIn(hubUrl: string, name: string, password: string): Promise<boolean> {
  const response = await fetch(`${hubUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password }),
    signal: AbortSignal.timeout(15_000),
  }).catch(() => undefined);
  const cookie = response?.headers.getSetCookie()[0]?.split(';')[0];
  if (response?.status !== 200 || !cookie) {
    return false;
  }
  await fetch(`${hubUrl}/api/auth/logout`, { method: 'POST', headers: { cookie } }).catch(() => undefined);
  return true;
}

/**
 * The vault's master key: made once (32 random bytes), kept under WAGGLE_HOME readable by
 * this user only. Only the vault service reads it (WAGGLE_VAULT_KEY_FILE); losing it loses
 * every secret, so back it up apart from the database.
 */
async function stableVaultKeyFile(file: string): Promise<string> {
  const previous = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (!previous) {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  }
  await chmod(file, 0o600);
  return file;
}

function localMachineName(): string {
  const name = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);
  return NAME_PATTERN.test(name) ? name : 'hub-machine';
}

async function waitReady(url: string, label: string): Promise<void> {
  const started = Date.now();
  let shown = 0;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) {
        return;
      }
    } catch {
      // not up yet
    }
    const waited = Math.round((Date.now() - started) / 1000);
    if (waited >= shown + 5) {
      shown = waited;
      out.error(`[waggle] waiting for ${label} (${waited}s)…`);
    }
    if (waited > 120) {
      throw new CliError(`${label} did not become ready within 120s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface UpOptions {
  agent: boolean;
  verbose?: boolean;
  agentAllowCommand?: boolean;
  agentAllowShell?: boolean;
  agentSlots?: number;
  agentLabel: string[];
}

/** `waggle up` (what `npm start` runs): the whole hub and a node-agent for this machine. */
export function registerUp(program: Command, config: CliConfig) {
  program
    .command('up')
    .description('start the hub (NATS, Postgres, registry, gateway) and a node-agent for this machine')
    .option('--no-agent', 'do not start a node-agent for this machine')
    .option('--verbose', "the services' own logs in this terminal, not in files under WAGGLE_HOME/logs")
    .option('--agent-allow-command', 'the local agent runs `command` tasks (as `waggle agent --allow-command`)')
    .option('--agent-allow-shell', 'the local agent runs `shell` tasks')
    .option('--agent-slots <n>', 'tasks the local agent runs at once (default 1)', (v) => Number(v))
    .option(
      '--agent-label <label>',
      'a label of the local agent, repeatable (room=lab); WAGGLE_AGENT_* variables count too',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(async (opts: UpOptions) => {
      const home = resolve(config.WAGGLE_HOME);
      const supervisor = new Supervisor();
      const started: string[] = [];
      let nats: LocalNatsServer | undefined;
      let postgres: LocalPostgres | undefined;
      const shutdown = async () => {
        out.error('\n[waggle] stopping…');
        await supervisor.stopAll();
        await nats?.stop();
        await postgres?.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown());
      process.once('SIGTERM', () => void shutdown());

      // NATS: external, or nats-server from PATH in operator mode under WAGGLE_HOME.
      let natsUrl = config.WAGGLE_NATS_URL;
      let natsEnv: Record<string, string | undefined> = {};
      if (!natsUrl) {
        if (!findNatsServer()) {
          throw new CliError(NATS_INSTALL_HELP, 2);
        }
        const port = await stablePort(join(home, 'nats', 'port'), config.WAGGLE_NATS_PORT);
        // All interfaces: other machines connect here (every connection needs a signed user JWT).
        nats = new LocalNatsServer({ dir: join(home, 'nats'), port, host: '0.0.0.0' });
        out.error(`[waggle] starting nats-server on ${port}…`);
        await nats.start();
        natsUrl = nats.url;
        const files = authMaterialFiles(nats.authDir);
        natsEnv = {
          WAGGLE_NATS_CREDS_FILE: files.hubCreds,
          WAGGLE_NATS_ACCOUNT_SEED_FILE: files.accountSeed,
          WAGGLE_NATS_OPERATOR_SEED_FILE: files.operatorSeed,
          WAGGLE_NATS_SYSTEM_CREDS_FILE: files.systemCreds,
        };
        started.push(`NATS         ${natsUrl}  (embedded, JetStream in ${join(home, 'nats')})`);
      } else {
        started.push(`NATS         ${natsUrl}  (external)`);
      }

      // Postgres: external, or embedded under WAGGLE_HOME.
      let databaseUrl = config.WAGGLE_DATABASE_URL;
      if (!databaseUrl) {
        const port = await freePort(config.WAGGLE_POSTGRES_PORT);
        postgres = new LocalPostgres({ dir: join(home, 'postgres'), port, database: 'waggle' });
        out.error(`[waggle] starting embedded Postgres on ${port}…`);
        databaseUrl = await postgres.start();
        started.push(`Postgres     127.0.0.1:${port}  (embedded, data in ${join(home, 'postgres')})`);
      } else {
        started.push(`Postgres     ${new URL(databaseUrl).host}  (external)`);
      }

      // First start: a candidate admin token; the gateway installs it only if it has none.
      const candidate = config.WAGGLE_ADMIN_TOKEN ?? newToken(TokenPrefix.admin);
      // Likewise the first admin account's password, installed only if the hub has no account.
      const candidatePassword = config.WAGGLE_ADMIN_PASSWORD ?? randomBytes(18).toString('base64url');
      const registryMetricsPort = await freePort(REGISTRY_METRICS_PORT);
      const taskRouterMetricsPort = await freePort(9102);
      const llmMetricsPort = await freePort(9103);
      const githubMetricsPort = await freePort(9104);
      const sessionsMetricsPort = await freePort(9107);
      const trackerMetricsPort = await freePort(9108);
      const vaultMetricsPort = await freePort(9109);
      // The hub inherits this environment: a key given there is used as is (the CLI never reads it).
      const inherited = childEnvironment();
      const vaultKeyGiven = !!(inherited.WAGGLE_VAULT_KEY || inherited.WAGGLE_VAULT_KEY_FILE);
      const vaultKeyFile = join(home, 'vault', 'master.key');
      // The hub's services in one process (one Node start, one module load), each with its own
      // config, NATS connection and pool, talking to the others over NATS as when each runs alone.
      // Each reads only its own variables, so one environment serves them all.
      // The services' own logs go to files (`waggle logs`), unless --verbose: this terminal gets
      // one line per service as it comes up, then the banner.
      const logs = join(home, 'logs');
      await mkdir(logs, { recursive: true, mode: 0o700 });
      const logFile = (name: string) => (opts.verbose ? undefined : join(logs, `${name}.log`));
      supervisor.start({
        name: 'hub',
        entry: hubHostMain(),
        args: [...HUB_SERVICES],
        logFile: logFile('hub'),
        onMessage: (message) => {
          const m = message as HostingReport;
          if (m.type === 'waggle.service.ready') {
            out.error(`[waggle] ${m.service.padEnd(12)} up (${(m.ms / 1000).toFixed(1)} s)`);
          } else if (m.type === 'waggle.service.failed') {
            out.error(`[waggle] ${m.service} failed to start: ${m.error} (\`waggle logs ${m.service}\`)`);
          }
        },
        env: childEnvironment({
          WAGGLE_DATABASE_URL: databaseUrl,
          WAGGLE_NATS_URL: natsUrl,
          ...natsEnv,
          WAGGLE_REGISTRY_METRICS_PORT: String(registryMetricsPort),
          WAGGLE_TASK_ROUTER_METRICS_PORT: String(taskRouterMetricsPort),
          // Providers come from WAGGLE_LLM_* in this environment; with none set, only a local Ollama is tried.
          WAGGLE_LLM_FAILOVER_METRICS_PORT: String(llmMetricsPort),
          // The bot's token comes from GITHUB_TOKEN / GITHUB_TOKEN_FILE in this environment; without one it stays idle.
          WAGGLE_GITHUB_BOT_METRICS_PORT: String(githubMetricsPort),
          WAGGLE_SESSIONS_METRICS_PORT: String(sessionsMetricsPort),
          WAGGLE_GITHUB_SECRETS_KEY:
            config.WAGGLE_GITHUB_SECRETS_KEY ?? (await stableSecretsKey(join(home, 'github', 'secrets.key'))),
          WAGGLE_TRACKER_METRICS_PORT: String(trackerMetricsPort),
          // The vault's master key: from WAGGLE_VAULT_KEY(_FILE) in this environment, else made once under WAGGLE_HOME.
          WAGGLE_VAULT_METRICS_PORT: String(vaultMetricsPort),
          ...(vaultKeyGiven ? {} : { WAGGLE_VAULT_KEY_FILE: await stableVaultKeyFile(vaultKeyFile) }),
          WAGGLE_PORT: String(config.WAGGLE_PORT),
          // /ready (and so the banner) waits until every service of the hub answers over NATS.
          WAGGLE_GATEWAY_REQUIRED_SERVICES: HUB_SERVICES.filter((s) => s !== 'gateway').join(','),
          WAGGLE_ADMIN_TOKEN: candidate,
          WAGGLE_ADMIN_TOKEN_FILE: undefined,
          WAGGLE_ADMIN_PASSWORD: candidatePassword,
          WAGGLE_ADMIN_PASSWORD_FILE: undefined,
        }),
      });
      started.push(
        `registry     NATS request/reply; metrics http://127.0.0.1:${registryMetricsPort}/metrics`,
        `task-router  NATS request/reply; metrics http://127.0.0.1:${taskRouterMetricsPort}/metrics`,
        `llm-failover /v1/chat/completions, /v1/messages via the gateway; metrics http://127.0.0.1:${llmMetricsPort}/metrics`,
        `github-bot   webhooks at /api/github/webhook; metrics http://127.0.0.1:${githubMetricsPort}/metrics`,
        `sessions     /api/sessions, /api/attention, /api/assignments; metrics http://127.0.0.1:${sessionsMetricsPort}/metrics`,
        `tracker      projects, features, bugs at /api/projects; metrics http://127.0.0.1:${trackerMetricsPort}/metrics`,
        `vault        secrets at /api/secrets (master key ${vaultKeyGiven ? 'from the environment' : `in ${vaultKeyFile}`}); metrics http://127.0.0.1:${vaultMetricsPort}/metrics`,
      );
      const hubUrl = `http://127.0.0.1:${config.WAGGLE_PORT}`;
      await waitReady(`${hubUrl}/ready`, 'the gateway');
      started.push(`gateway      ${hubUrl}  (REST /api, /ws, /metrics)`);

      const admin = new ApiClient(hubUrl, candidate);
      const firstStart = await admin.call('GET', '/api/auth/whoami').then(
        () => !config.WAGGLE_ADMIN_TOKEN,
        () => false,
      );

      // The account was installed now (first start, or the first start since accounts exist) if this random password signs in.
      const accountInstalled = !config.WAGGLE_ADMIN_PASSWORD && (await signsIn(hubUrl, 'admin', candidatePassword));

      const stateDir = join(home, 'agent');
      if (opts.agent) {
        const identity = await readIdentity(stateDir);
        let joinToken: string | undefined;
        if (!identity) {
          const usable = firstStart || !!config.WAGGLE_ADMIN_TOKEN;
          if (!usable) {
            out.error(
              '[waggle] the local agent has no identity and no admin token is at hand (set WAGGLE_ADMIN_TOKEN); not starting it',
            );
          } else {
            joinToken = (
              await admin.call<CreatedJoinToken>('POST', '/api/join-tokens', {
                description: 'local agent',
                maxUses: 1,
                ttlSeconds: 600,
              })
            ).token;
          }
        }
        if (identity || joinToken) {
          const name = identity?.name ?? localMachineName();
          const env = agentEnvironment(
            {
              hub: hubUrl,
              joinToken,
              name,
              natsUrl,
              label: opts.agentLabel,
              slots: opts.agentSlots,
              allowCommand: opts.agentAllowCommand,
              allowShell: opts.agentAllowShell,
            },
            stateDir,
          );
          supervisor.start({ name: 'node-agent', entry: nodeAgentMain(), env, logFile: logFile('node-agent') });
          started.push(`node-agent   "${name}" (state in ${stateDir})`);
        }
      }

      // What must be seen comes last: the admin token and account, shown this once.
      const lines = [
        '',
        '  Waggle hub is up',
        '',
        ...started.map((s) => `  ${s}`),
        '',
        `  Dashboard    ${hubUrl}/`,
        `  API docs     ${hubUrl}/docs`,
        `  Logs         npx waggle logs [SERVICE] [-f]${opts.verbose ? '' : `  (files in ${logs})`}`,
        '',
        '  Join another machine:',
        '    npx waggle token create            # prints a join token (needs WAGGLE_TOKEN)',
        `    npx waggle agent --hub http://<this-host>:${config.WAGGLE_PORT} --join-token <token> --name <name>`,
        '',
        ...(accountInstalled
          ? [
              `  Admin account for the dashboard (shown once, only its hash is stored):`,
              `    name admin, password ${candidatePassword}`,
              '    add people with `npx waggle users add NAME --role viewer|operator|admin`',
              '',
            ]
          : []),
        ...(firstStart
          ? [
              '  Admin token (shown once, only its hash is stored — keep it now):',
              `    ${candidate}`,
              '',
              `  export WAGGLE_TOKEN=${candidate}`,
              '',
            ]
          : []),
      ];
      out.line(lines.join('\n'));
    });
}
