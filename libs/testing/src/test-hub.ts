import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { AgentIdentity, StoredMessage } from '@waggle/agent-state';
import { InboxStore, readIdentity } from '@waggle/agent-state';
import { childEnvironment } from '@waggle/config';
import type { CreatedJoinToken, CreatedUser, Role } from '@waggle/contracts';
import { authMaterialFiles, newToken, TokenPrefix } from '@waggle/credentials';
import { createDatabase, dropDatabase, freePort, LocalNatsServer, programPath } from '@waggle/local-infra';

import { eventually } from './eventually';
import { ServiceProcess } from './service-process';

/** The line every hub service logs once it serves (libs/service-kit's bootstrap). */
const READY_LINE = /"msg":"[a-z-]+ ready"/;

/** Postgres server the tests make their databases on. */
export function testDatabaseServer(): string {
  return childEnvironment().WAGGLE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

export interface TestHubOptions {
  heartbeatIntervalMs?: number;
  /** How many task-router replicas to run (default 1). */
  taskRouters?: number;
  /** Task lease in seconds (default 3, so lost attempts are noticed quickly). */
  leaseSeconds?: number;
  /** Start NATS without per-machine auth (the development mode). */
  noAuth?: boolean;
  /** Run llm-failover replicas with these settings (`WAGGLE_LLM_*`); none when absent. */
  llm?: { env: Record<string, string>; replicas?: number };
  /** Run the GitHub bot with these settings (GITHUB_TOKEN, WAGGLE_GITHUB_*); none when absent. */
  github?: { env: Record<string, string> };
  /** Run the tracker (projects, features, bugs) with these settings (`WAGGLE_TRACKER_*`). */
  tracker?: { env?: Record<string, string> };
  /** Run the vault with this master key (default: a random one, in `vaultKey`) and settings; none when absent. */
  vault?: { key?: string; env?: Record<string, string> };
  /** The Postgres server to make the hub's database on (default: WAGGLE_TEST_DATABASE_URL's). */
  databaseServer?: string;
  /** Settings every hub service gets (`WAGGLE_*` of HubServiceConfig). */
  env?: Record<string, string>;
  /** Give every hub service an ops server (`/metrics`) on a free port, listed in `metricsUrls`; only the registry has one otherwise. */
  metrics?: boolean;
  /** Run the sessions service (agent sessions in tmux, the assigner, the attention inbox) with these settings. */
  sessions?: { env?: Record<string, string> };
  /** Open nats-server's HTTP monitoring port (`nats.monitorUrl`: /varz message counters), for the bench. */
  natsMonitoring?: boolean;
}

/**
 * A whole hub for one test suite: its own nats-server (operator mode, free port, temp
 * store), its own fresh database, and the real registry and gateway processes. Agents are
 * real node-agent processes with their own state dirs.
 */
/** A person's account made by `createUser`, with its password. */
export interface TestUser {
  id: string;
  name: string;
  role: Role;
  password: string;
}

export class TestHub {
  readonly adminToken = newToken(TokenPrefix.admin);
  /** The first admin account's password (account `admin`), installed on the gateway's first start. */
  readonly adminPassword = randomBytes(18).toString('base64url');
  registry!: ServiceProcess;
  gateway!: ServiceProcess;
  taskRouters: ServiceProcess[] = [];
  /** Gateway replicas started with startGateway, beside `gateway`. */
  readonly moreGateways: ServiceProcess[] = [];
  llmFailovers: ServiceProcess[] = [];
  githubBot?: ServiceProcess;
  sessions?: ServiceProcess;
  tracker?: ServiceProcess;
  vault?: ServiceProcess;
  /** The vault's master key (base64), when the hub runs a vault. */
  vaultKey = '';
  nats!: LocalNatsServer;
  url = '';
  /** Each running hub service's Prometheus endpoint (the gateway's is `${url}/metrics`). */
  readonly metricsUrls: { service: string; url: string }[] = [];
  databaseUrl = '';
  private readonly agents: AgentProcess[] = [];
  private readonly vaults: ServiceProcess[] = [];
  /** What every hub service process is started with (databases, NATS, the suite's env). */
  private common: Record<string, string> = {};

  private constructor(
    readonly dir: string,
    /** The hub's own database on `databaseServer`. */
    readonly databaseName: string,
    readonly options: TestHubOptions,
  ) {}

  static async start(options: TestHubOptions = {}): Promise<TestHub> {
    const dir = await mkdtemp(join(tmpdir(), 'waggle-test-'));
    const hub = new TestHub(dir, `waggle_test_${randomBytes(6).toString('hex')}`, options);
    try {
      await hub.boot();
    } catch (error) {
      // Nothing of a hub that did not come up is left running for the next suite to trip on.
      await hub.stop();
      throw error;
    }
    return hub;
  }

  /** The Postgres server the hub's database is on (its maintenance database's URL). */
  get databaseServer(): string {
    return this.options.databaseServer ?? testDatabaseServer();
  }

  get heartbeatIntervalMs(): number {
    return this.options.heartbeatIntervalMs ?? 300;
  }

  private async boot() {
    this.nats = new LocalNatsServer({
      dir: join(this.dir, 'nats'),
      port: await freePort(),
      httpPort: this.options.natsMonitoring ? await freePort() : undefined,
    });
    await this.nats.start();
    this.databaseUrl = await createDatabase(this.options.databaseServer ?? testDatabaseServer(), this.databaseName);
    const files = authMaterialFiles(this.nats.authDir);
    const common = (this.common = {
      WAGGLE_DATABASE_URL: this.databaseUrl,
      WAGGLE_NATS_URL: this.nats.url,
      WAGGLE_NATS_CREDS_FILE: files.hubCreds,
      WAGGLE_NATS_ACCOUNT_SEED_FILE: files.accountSeed,
      WAGGLE_NATS_OPERATOR_SEED_FILE: files.operatorSeed,
      WAGGLE_NATS_SYSTEM_CREDS_FILE: files.systemCreds,
      ...this.options.env,
    });
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.metricsUrls.push({ service: 'gateway', url: `${this.url}/metrics` });
    // '0' turns a service's ops server off.
    const metricsPort = async (service: string, always = false) => {
      if (!always && !this.options.metrics) {
        return '0';
      }
      // The OS may hand the same free port out twice in a row: each service gets one of its own.
      let free = await freePort();
      while (this.metricsUrls.some((m) => m.url.includes(`:${free}/`))) {
        free = await freePort();
      }
      this.metricsUrls.push({ service, url: `http://127.0.0.1:${free}/metrics` });
      return String(free);
    };
    this.registry = new ServiceProcess('registry', programPath('registry'), {
      ...common,
      WAGGLE_REGISTRY_METRICS_PORT: await metricsPort('registry', true),
      WAGGLE_HEARTBEAT_INTERVAL_MS: String(this.heartbeatIntervalMs),
    }).start();
    for (let i = 0; i < (this.options.taskRouters ?? 1); i++) {
      this.taskRouters.push(
        new ServiceProcess(`task-router-${i}`, programPath('task-router'), {
          ...common,
          WAGGLE_TASK_ROUTER_METRICS_PORT: await metricsPort(`task-router-${i}`),
          WAGGLE_TASK_LEASE_SECONDS: String(this.options.leaseSeconds ?? 3),
          WAGGLE_SCHEDULER_INTERVAL_MS: '200',
        }).start(),
      );
    }
    for (let i = 0; i < (this.options.llm ? (this.options.llm.replicas ?? 1) : 0); i++) {
      this.llmFailovers.push(
        new ServiceProcess(`llm-failover-${i}`, programPath('llm-failover'), {
          ...common,
          WAGGLE_LLM_FAILOVER_METRICS_PORT: await metricsPort(`llm-failover-${i}`),
          // No provider of the machine's own environment leaks into a test: only what the suite names.
          WAGGLE_LLM_CHAIN: '',
          ...this.options.llm!.env,
        }).start(),
      );
    }
    if (this.options.github) {
      this.githubBot = new ServiceProcess('github-bot', programPath('github-bot'), {
        ...common,
        WAGGLE_GITHUB_BOT_METRICS_PORT: await metricsPort('github-bot'),
        WAGGLE_GITHUB_SECRETS_KEY: randomBytes(32).toString('base64'),
        WAGGLE_GITHUB_WRITE_INTERVAL_MS: '0',
        WAGGLE_GITHUB_SYNC_INTERVAL_MS: '500',
        ...this.options.github.env,
      }).start();
    }
    if (this.options.sessions) {
      this.sessions = new ServiceProcess('sessions', programPath('sessions'), {
        ...common,
        WAGGLE_SESSIONS_METRICS_PORT: await metricsPort('sessions'),
        WAGGLE_ASSIGNER_INTERVAL_MS: '500',
        ...this.options.sessions.env,
      }).start();
    }
    if (this.options.tracker) {
      this.tracker = new ServiceProcess('tracker', programPath('tracker'), {
        ...common,
        WAGGLE_TRACKER_METRICS_PORT: await metricsPort('tracker'),
        WAGGLE_TRACKER_SYNC_INTERVAL_MS: '500',
        ...this.options.tracker.env,
      }).start();
    }
    if (this.options.vault) {
      this.vaultKey = this.options.vault.key ?? randomBytes(32).toString('base64');
      this.vault = this.startVault({
        WAGGLE_VAULT_KEY: this.vaultKey,
        WAGGLE_VAULT_METRICS_PORT: await metricsPort('vault'),
        ...this.options.vault.env,
      });
    }
    this.gateway = new ServiceProcess('gateway', programPath('gateway'), {
      ...common,
      WAGGLE_PORT: String(port),
      WAGGLE_HOST: '127.0.0.1',
      WAGGLE_ADMIN_TOKEN: this.adminToken,
      WAGGLE_ADMIN_PASSWORD: this.adminPassword,
    }).start();
    await this.waitReady();
  }

  /**
   * Waits until every hub service process says it is ready (each replica: one answering
   * through the gateway does not mean the others are up), the gateway answers /ready and
   * each service answers through it.
   */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    await eventually(
      async () => {
        const starting = [
          this.registry,
          ...this.taskRouters,
          ...this.llmFailovers,
          ...(this.githubBot ? [this.githubBot] : []),
          ...(this.sessions ? [this.sessions] : []),
          ...(this.tracker ? [this.tracker] : []),
          ...(this.vault ? [this.vault] : []),
        ]
          .filter((service) => !READY_LINE.test(service.text()))
          .map((service) => service.name);
        if (starting.length) {
          throw new Error(`still starting: ${starting.join(', ')}`);
        }
        const ready = await fetch(`${this.url}/ready`);
        if (!ready.ok) {
          throw new Error(`ready ${ready.status}`);
        }
        const res = await this.api('GET', '/api/machines?limit=1');
        if (res.status !== 200) {
          throw new Error(`registry not answering: ${res.status}`);
        }
        if (this.llmFailovers.length) {
          const providers = await this.api('GET', '/api/llm/providers');
          if (providers.status !== 200) {
            throw new Error(`llm-failover not answering: ${providers.status}`);
          }
        }
        if (this.githubBot) {
          const repos = await this.api('GET', '/api/github/repos?limit=1');
          if (repos.status !== 200) {
            throw new Error(`github-bot not answering: ${repos.status}`);
          }
        }
        if (this.sessions) {
          const sessions = await this.api('GET', '/api/sessions?limit=1');
          if (sessions.status !== 200) {
            throw new Error(`sessions not answering: ${sessions.status}`);
          }
        }
        if (this.tracker) {
          const projects = await this.api('GET', '/api/projects?limit=1');
          if (projects.status !== 200) {
            throw new Error(`tracker not answering: ${projects.status}`);
          }
        }
        if (this.vault) {
          const keys = await this.api('GET', '/api/vault/keys');
          if (keys.status !== 200) {
            throw new Error(`vault not answering: ${keys.status}`);
          }
        }
        if (this.taskRouters.length) {
          const tasks = await this.api('GET', '/api/tasks?limit=1');
          if (tasks.status !== 200) {
            throw new Error(`task-router not answering: ${tasks.status}`);
          }
        }
      },
      {
        timeoutMs,
        what: `hub ready (gateway: ${this.gateway.text().slice(-500)} registry: ${this.registry.text().slice(-500)})`,
      },
    );
  }

  /**
   * A vault process on the hub's database and NATS with these settings (WAGGLE_VAULT_KEY:
   * its master key); `hub.vault` is the one the hub started. Stopped with the hub.
   */
  startVault(env: Record<string, string | undefined>): ServiceProcess {
    const vault = new ServiceProcess(`vault-${this.vaults.length}`, programPath('vault'), {
      ...this.common,
      WAGGLE_VAULT_METRICS_PORT: '0',
      ...env,
    }).start();
    this.vaults.push(vault);
    return vault;
  }

  /**
   * Another gateway replica on a port of its own, with the hub's settings plus `env`
   * (stopped with the hub); resolves once it answers /ready.
   */
  async startGateway(env: Record<string, string> = {}): Promise<{ process: ServiceProcess; url: string }> {
    const port = await freePort();
    const gateway = new ServiceProcess(`gateway-${this.moreGateways.length + 2}`, programPath('gateway'), {
      ...this.common,
      WAGGLE_PORT: String(port),
      WAGGLE_HOST: '127.0.0.1',
      WAGGLE_ADMIN_TOKEN: this.adminToken,
      WAGGLE_ADMIN_PASSWORD: this.adminPassword,
      ...env,
    }).start();
    this.moreGateways.push(gateway);
    const url = `http://127.0.0.1:${port}`;
    await eventually(
      async () => {
        const ready = await fetch(`${url}/ready`);
        if (!ready.ok) {
          throw new Error(`ready ${ready.status}`);
        }
      },
      { timeoutMs: 60_000, what: `gateway on ${url} ready (${gateway.text().slice(-500)})` },
    );
    return { process: gateway, url };
  }

  async api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token: string | null = this.adminToken,
  ): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /**
   * Adds a person's account with a known password (generated unless given), through the
   * API as the admin token: `await hub.createUser('ana', 'operator')`.
   */
  async createUser(name: string, role: Role, password = randomBytes(12).toString('base64url')): Promise<TestUser> {
    const res = await this.api<CreatedUser>('POST', '/api/users', { name, role, password });
    if (res.status !== 201) {
      throw new Error(`user ${name}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return { id: res.body.user.id, name, role, password };
  }

  /** Signs in as a person; answers the `Cookie` header value that carries the session. */
  async signIn(user: { name: string; password: string }): Promise<string> {
    const response = await fetch(`${this.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: user.name, password: user.password }),
    });
    const cookie = response.headers.getSetCookie()[0]?.split(';')[0];
    if (response.status !== 200 || !cookie) {
      throw new Error(`sign-in as ${user.name}: ${response.status} ${await response.text()}`);
    }
    return cookie;
  }

  async joinToken(maxUses = 1): Promise<string> {
    const res = await this.api<CreatedJoinToken>('POST', '/api/join-tokens', { maxUses, description: 'test' });
    if (res.status !== 201) {
      throw new Error(`join token: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.body.token;
  }

  /** Starts a node-agent that joins as `name` (first start) and waits until the hub sees it online. */
  async startAgent(
    name: string,
    options: {
      labels?: string[];
      waitOnline?: boolean;
      slots?: number;
      allowCommand?: boolean;
      allowShell?: boolean;
      /** Serve agent sessions (tmux on the agent's private socket, killed when the hub stops). */
      allowSessions?: boolean;
      env?: Record<string, string>;
    } = {},
  ): Promise<AgentProcess> {
    const stateDir = join(this.dir, 'agents', name);
    const agent = new AgentProcess(name, stateDir, {
      WAGGLE_AGENT_STATE_DIR: stateDir,
      WAGGLE_AGENT_HUB_URL: this.url,
      WAGGLE_AGENT_JOIN_TOKEN: await this.joinToken(),
      WAGGLE_AGENT_NAME: name,
      WAGGLE_AGENT_LABELS: options.labels?.join(','),
      WAGGLE_AGENT_SLOTS: String(options.slots ?? 1),
      WAGGLE_AGENT_ALLOW_COMMAND: String(!!options.allowCommand),
      WAGGLE_AGENT_ALLOW_SHELL: String(!!options.allowShell),
      WAGGLE_AGENT_ALLOW_SESSIONS: String(!!options.allowSessions),
      WAGGLE_AGENT_KILL_GRACE_MS: '1000',
      WAGGLE_AGENT_CLI_PATH: programPath('cli'),
      ...options.env,
    });
    agent.start();
    this.agents.push(agent);
    if (options.waitOnline !== false) {
      await this.waitOnline(name);
    }
    return agent;
  }

  async waitOnline(name: string, timeoutMs = 20_000): Promise<void> {
    await eventually(
      async () => {
        const res = await this.api<{ status: string }>('GET', `/api/machines/${name}`);
        if (res.body?.status !== 'online') {
          throw new Error(`${name} is ${res.body?.status ?? res.status}`);
        }
      },
      { timeoutMs, what: `${name} online` },
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.kill('SIGKILL')));
    // Sessions outlive their agent by design: each agent's private tmux server goes with the hub.
    await Promise.all(this.agents.map((a) => a.killTmux()));
    await Promise.all([
      this.gateway?.kill(),
      ...this.moreGateways.map((g) => g.kill()),
      this.registry?.kill(),
      ...this.taskRouters.map((r) => r.kill()),
      ...this.llmFailovers.map((r) => r.kill()),
      this.githubBot?.kill(),
      this.sessions?.kill(),
      this.tracker?.kill(),
      ...this.vaults.map((v) => v.kill()),
    ]);
    await this.nats?.stop();
    await dropDatabase(this.options.databaseServer ?? testDatabaseServer(), this.databaseName).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A node-agent process plus read access to what it stored. */
export class AgentProcess extends ServiceProcess {
  readonly inbox: InboxStore;

  constructor(
    name: string,
    readonly stateDir: string,
    env: Record<string, string | undefined>,
  ) {
    super(`agent:${name}`, programPath('node-agent'), env);
    this.inbox = new InboxStore(stateDir);
  }

  identity(): Promise<AgentIdentity | undefined> {
    return readIdentity(this.stateDir);
  }

  messages(): Promise<StoredMessage[]> {
    return this.inbox.list();
  }

  /** The agent's private tmux socket (sessions). */
  get tmuxSocket(): string {
    return join(this.stateDir, 'tmux.sock');
  }

  /** Stops the agent's tmux server and every session on it (as a reboot would); nothing if none runs. */
  async killTmux(): Promise<void> {
    await new Promise<void>((resolve) => {
      execFile('tmux', ['-S', this.tmuxSocket, 'kill-server'], () => resolve());
    });
  }
}
