import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

import type { NatsConnection, Subscription } from 'nats';

import type { AgentIdentity, InboxStore } from '@waggle/agent-state';
import { childEnvironment } from '@waggle/config';
import type { Capabilities, HeartbeatPayload, HelloReply, ReceiptReply, ReposReport, SessionCli } from '@waggle/contracts';
import {
  Consumers,
  ErrorCode,
  InboxMessage,
  machineRequestSubject,
  MachineSubjects,
  ProjectNotesRequest,
  Streams,
  WaggleError,
} from '@waggle/contracts';
import type { Delivered } from '@waggle/messaging';
import { connectNats, consumePipelined, encodeJson, machineRequest, request, serve } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

import type { ExecutionOptions } from './capabilities';
import { detectCapabilities } from './capabilities';
import { LocalSocket } from './local-socket';
import { earlierLives, killMarked } from './process-marks';
import type { ScreenPatterns } from './sessions/screen-patterns';
import { SessionKeeper } from './sessions/session-keeper';
import { SessionStreams } from './sessions/session-streams';
import { Tmux } from './sessions/tmux';
import { readProjectNotes } from './project-notes';
import { scanSources } from './source-scan';
import { SystemSampler } from './system-metrics';
import type { ExecutorOptions } from './task-executor';
import { TaskExecutor } from './task-executor';
import { TaskHelper } from './task-helper';
import { sweepKeptWorkDirs } from './work-dirs';

export const AGENT_VERSION = '0.1.0';
const CAPABILITY_REFRESH_MS = 5 * 60 * 1000;
const RECEIPT_CHUNK = 1000;
/** Delivery receipts in flight at once while the next batches are stored. */
const RECEIPTS_IN_FLIGHT = 2;
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
/** The agent's own secrets: tasks inherit the agent's environment without them. */
const AGENT_SECRET_VARIABLES = [
  'WAGGLE_AGENT_JOIN_TOKEN',
  'WAGGLE_AGENT_GITHUB_TOKEN',
  'WAGGLE_AGENT_GITHUB_TOKEN_FILE',
];

/** Exit codes the `waggle agent` wrapper understands. */
export const ExitCode = { revoked: 3 } as const;

export interface AgentOptions {
  identity: AgentIdentity;
  store: InboxStore;
  stateDir: string;
  labels: string[];
  natsUrl?: string;
  inboxBatch: number;
  execution: ExecutionOptions;
  tasks: Pick<ExecutorOptions, 'workDir' | 'killGraceMs' | 'cliCommands' | 'github' | 'keepFailedMs'>;
  /** Folders whose git repositories are reported to the hub, and how often. */
  sources?: { dirs: string[]; intervalMs: number };
  /** The `waggle` CLI's main script: tasks get a `waggle` command on PATH that runs it. */
  cliPath?: string;
  /** PATH the agent was started with (tasks inherit it). */
  path?: string;
  logger: Logger;
  /** On a stop, how long running attempts may take to finish before they are handed back. */
  stopGraceMs: number;
  /** Agent sessions in tmux (none: the hub may not start or type into programs here). */
  sessions?: {
    watchMs: number;
    maxSessions: number;
    patterns: Record<SessionCli, ScreenPatterns>;
  };
  /** Called when the hub no longer accepts this machine (revoked). */
  onRevoked: () => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A joined machine at run time: keeps its NATS connection (reconnecting for ever), says
 * hello whenever it (re)connects, heartbeats, stores its inbox and reports delivery and
 * reads. No HTTP server, no ORM: it runs on a Raspberry Pi.
 */
export class NodeAgent {
  private nc?: NatsConnection;
  private capabilities?: Capabilities;
  private capabilitiesAt = 0;
  private readonly abort = new AbortController();
  private timers: NodeJS.Timeout[] = [];
  private helloing?: Promise<void>;
  private reporting = false;
  private scanning = false;
  /** Answers the hub's questions about checkouts under the source folders (for plans). */
  private notes?: Subscription;
  private executor?: TaskExecutor;
  private socket?: LocalSocket;
  private helper?: TaskHelper;
  private sessions?: SessionKeeper;
  private readonly sampler: SystemSampler;
  /** This run's mark on every task process: `<machineId>/<random>` (process-marks.ts). */
  private readonly processMark: string;

  constructor(private readonly options: AgentOptions) {
    // a sample takes at most half a heartbeat (and 2 s): a slow reading never delays one.
    const timeoutMs = Math.min(2_000, Math.max(50, Math.floor(options.identity.heartbeatIntervalMs / 2)));
    this.sampler = new SystemSampler({
      path: options.stateDir,
      timeoutMs,
      probe: (program, args, probeTimeoutMs) => this.probe(program, args, probeTimeoutMs),
      logger: options.logger,
    });
    this.processMark = `${options.identity.machineId}/${randomBytes(4).toString('hex')}`;
  }

  private get id() {
    return this.options.identity.machineId;
  }

  async start(): Promise<void> {
    const { identity, logger } = this.options;
    await this.guardTaskProcesses();
    const natsUrl = this.options.natsUrl ?? identity.natsUrl;
    const waitingSince = Date.now();
    // nats.js retries the first connect for ever without a word: say so while it does.
    const waiting = setInterval(
      () =>
        logger.warn(
          { nats: natsUrl, waitingSeconds: Math.round((Date.now() - waitingSince) / 1000) },
          'hub unreachable; retrying',
        ),
      5_000,
    );
    this.nc = await connectNats({
      servers: natsUrl.split(','),
      name: `agent:${identity.name}`,
      credentials: identity.natsJwt ? { jwt: identity.natsJwt, seed: identity.natsSeed } : undefined,
      inboxPrefix: MachineSubjects.replyPrefix(identity.machineId),
      onStatus: (status) => this.onStatus(status),
    }).finally(() => clearInterval(waiting));
    logger.info({ machineId: identity.machineId, name: identity.name, nats: this.nc.getServer() }, 'connected to hub');
    // The inbox is pulled at once: its consumer exists since the machine joined, and what
    // waited for this machine is stored while it says hello.
    this.consumeInbox();
    await this.hello();
    this.timers.push(setInterval(() => void this.heartbeat(), identity.heartbeatIntervalMs));
    this.timers.push(setInterval(() => void this.reportReads(), 1000));
    this.socket = new LocalSocket({
      path: join(this.options.stateDir, 'agent.sock'),
      nc: this.nc,
      machineId: this.id,
      isRunning: (taskId, attempt) => !!this.executor?.isRunning(taskId, attempt),
      onSessionHook: this.options.sessions
        ? (req) => this.sessions?.hook(req) ?? Promise.reject(new Error('sessions are starting'))
        : undefined,
      mask: (taskId, attempt) => this.executor?.maskOf(taskId, attempt),
      logger,
    });
    const taskEnv = await this.taskEnvironment(await this.socket.start());
    this.executor = new TaskExecutor({
      nc: this.nc,
      machineId: this.id,
      slots: this.options.execution.slots,
      allowCommand: this.options.execution.allowCommand,
      allowShell: this.options.execution.allowShell,
      ...this.options.tasks,
      machineName: identity.name,
      processMark: this.processMark,
      programs: this.helper!,
      stateDir: this.options.stateDir,
      capabilities: () => this.currentCapabilities(),
      taskEnv,
      logger,
      signal: this.abort.signal,
    });
    this.executor.start();
    if (this.options.sessions) {
      await this.startSessions(taskEnv);
    }
    if (this.options.sources?.dirs.length) {
      const dirs = this.options.sources.dirs;
      this.notes = serve(
        this.nc,
        MachineSubjects.projectNotes(this.id),
        ProjectNotesRequest,
        (req) => readProjectNotes(req.path, dirs, (program, args, timeoutMs) => this.probe(program, args, timeoutMs)),
        { logger },
      );
      void this.reportRepos();
      this.timers.push(setInterval(() => void this.reportRepos(), this.options.sources.intervalMs));
    }
    await sweepKeptWorkDirs(this.options.tasks.workDir, logger);
    this.timers.push(setInterval(() => void sweepKeptWorkDirs(this.options.tasks.workDir, logger), SWEEP_INTERVAL_MS));
  }

  /**
   * No task process outlives the agent: what an earlier run of this agent left (its helper
   * died with it) is stopped before anything else. Then the task helper is started: it runs
   * every program of this run and, once the agent is gone (SIGKILL included), stops them.
   */
  private async guardTaskProcesses(): Promise<void> {
    const { identity, logger, tasks } = this.options;
    const leftovers = await killMarked(earlierLives(identity.machineId, this.processMark));
    if (leftovers.length) {
      logger.warn({ count: leftovers.length }, 'killed task processes left by an earlier run of this agent');
    }
    this.helper = new TaskHelper({
      mark: this.processMark,
      graceMs: tasks.killGraceMs,
      env: childEnvironment(Object.fromEntries(AGENT_SECRET_VARIABLES.map((name) => [name, undefined]))),
      logger,
    }).start();
  }

  /**
   * Sessions live on the agent's private tmux server (`tmux -S <state dir>/tmux.sock`),
   * started through the task helper and kept running when the agent stops: a restarted
   * agent finds them, a rebooted machine gets them again from sessions.json.
   */
  private async startSessions(taskEnv: NodeJS.ProcessEnv): Promise<void> {
    const { stateDir, logger } = this.options;
    const settings = this.options.sessions!;
    const env: NodeJS.ProcessEnv = { ...taskEnv, TMUX: undefined, TMUX_PANE: undefined };
    const sessionEnv: Record<string, string> = {};
    sessionEnv.WAGGLE_AGENT_STATE_DIR = stateDir;
    for (const name of ['PATH', 'WAGGLE_AGENT_SOCKET'] as const) {
      if (taskEnv[name]) {
        sessionEnv[name] = taskEnv[name];
      }
    }
    const tmux = new Tmux({
      socket: join(stateDir, 'tmux.sock'),
      configFile: join(stateDir, 'tmux.conf'),
      programs: this.helper!,
      env,
      cwd: stateDir,
      mark: this.processMark,
    });
    this.sessions = new SessionKeeper({
      nc: this.nc!,
      machineId: this.id,
      stateDir,
      tmux,
      streams: new SessionStreams({
        nc: this.nc!,
        machineId: this.id,
        stateDir,
        tmux,
        programs: this.helper!,
        env,
        mark: this.processMark,
        logger: logger.child({ component: 'session-streams' }),
      }),
      programs: this.helper!,
      env,
      mark: this.processMark,
      patterns: settings.patterns,
      watchMs: settings.watchMs,
      maxSessions: settings.maxSessions,
      sessionEnv,
      logger: logger.child({ component: 'sessions' }),
    });
    await this.sessions.start();
  }

  /** The environment of every task: the agent's own without its secrets, the local socket, and `waggle` first on PATH. */
  private async taskEnvironment(socketOpen: boolean): Promise<NodeJS.ProcessEnv> {
    const extra: Record<string, string | undefined> = Object.fromEntries(
      AGENT_SECRET_VARIABLES.map((name) => [name, undefined]),
    );
    if (socketOpen) {
      extra.WAGGLE_AGENT_SOCKET = join(this.options.stateDir, 'agent.sock');
    }
    if (this.options.cliPath) {
      const bin = join(this.options.stateDir, 'bin');
      await mkdir(bin, { recursive: true, mode: 0o700 });
      const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
      await writeFile(
        join(bin, 'waggle'),
        `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(this.options.cliPath)} "$@"\n`,
        { mode: 0o700 },
      );
      extra.PATH = [bin, this.options.path].filter(Boolean).join(delimiter);
    }
    return childEnvironment(extra);
  }

  private onStatus(status: { type: string; data?: unknown }) {
    const { logger } = this.options;
    switch (status.type) {
      case 'disconnect':
        logger.warn('lost the hub connection; reconnecting');
        break;
      case 'reconnect':
        logger.info('reconnected to the hub');
        void this.hello();
        this.sessions?.reportAgain();
        break;
      case 'error':
        if (/AUTHORIZATION_VIOLATION|Authorization Violation/i.test(String(status.data))) {
          logger.error(
            "the hub refused this machine's NATS credential: it was revoked, or the hub was reset. Join again with a new join token.",
          );
          this.options.onRevoked();
        }
        break;
      default:
        break;
    }
  }

  /** What this machine can run, detected again every few minutes (CLIs get installed). */
  private async currentCapabilities(): Promise<Capabilities> {
    if (!this.capabilities || Date.now() - this.capabilitiesAt > CAPABILITY_REFRESH_MS) {
      this.capabilities = await detectCapabilities(
        this.options.labels,
        this.options.execution,
        () => this.sampler.gpus(),
        (program, args, timeoutMs) => this.probe(program, args, timeoutMs),
      );
      this.capabilitiesAt = Date.now();
    }
    return this.capabilities;
  }

  /** The agent's own programs (`--version`, nvidia-smi) run through the task helper too: the agent never forks. */
  private probe(program: string, args: string[], timeoutMs?: number): Promise<string | undefined> {
    return this.helper ? this.helper.probe(program, args, timeoutMs) : Promise.resolve(undefined);
  }

  private async payload(): Promise<HeartbeatPayload> {
    return {
      v: 1,
      agentVersion: AGENT_VERSION,
      capabilities: await this.currentCapabilities(),
      metrics: await this.sampler.sample(),
      intervalMs: this.options.identity.heartbeatIntervalMs,
    };
  }

  /**
   * Re-registers with the hub until it answers; a refusal means this machine was revoked.
   * A call while one runs waits for that one.
   */
  private hello(): Promise<void> {
    if (!this.nc) {
      return Promise.resolve();
    }
    this.helloing ??= this.sayHello(this.nc).finally(() => (this.helloing = undefined));
    return this.helloing;
  }

  private async sayHello(nc: NatsConnection): Promise<void> {
    for (let delay = 500; !this.abort.signal.aborted; delay = Math.min(delay * 2, 15_000)) {
      try {
        const reply = await request<HelloReply>(nc, MachineSubjects.hello(this.id), await this.payload(), 5_000);
        this.options.logger.info({ name: reply.name }, 'registered with the hub');
        return;
      } catch (error) {
        if (error instanceof WaggleError && error.code === ErrorCode.Forbidden) {
          this.options.logger.error('the hub no longer knows this machine (revoked)');
          this.options.onRevoked();
          return;
        }
        this.options.logger.warn({ reason: String(error), retryInMs: delay }, 'hub registry not answering; retrying');
        await sleep(delay);
      }
    }
  }

  /** Tells the hub which git repositories are under the source folders (the whole list each time). */
  private async reportRepos(): Promise<void> {
    const { logger } = this.options;
    if (!this.nc || this.scanning) {
      return;
    }
    this.scanning = true;
    try {
      const dirs = this.options.sources?.dirs ?? [];
      const repos = await scanSources(dirs, (program, args, timeoutMs) => this.probe(program, args, timeoutMs));
      const reply = await request<{ recorded: number }>(
        this.nc,
        machineRequestSubject('repos', this.id),
        { v: 1, sources: dirs, repos } satisfies ReposReport,
        10_000,
      );
      logger.debug({ repos: reply.recorded }, 'reported the repositories under the source folders');
    } catch (error) {
      logger.warn({ err: error }, 'could not report the repositories under the source folders; next scan');
    } finally {
      this.scanning = false;
    }
  }

  private async heartbeat() {
    if (!this.nc || this.nc.isClosed()) {
      return;
    }
    try {
      this.nc.publish(MachineSubjects.heartbeat(this.id), encodeJson(await this.payload()));
    } catch (error) {
      this.options.logger.debug({ err: error }, 'heartbeat not sent');
    }
  }

  /**
   * The inbox, pipelined: each batch is written to the inbox file in delivery order while
   * the batches before it are fsync'ed (one fsync for all that wait: a group commit) and
   * reported to the hub (a `delivered` receipt). A message is acked only once it is on
   * disk and its receipt was answered, so an acked message is one the hub knows was
   * delivered. A failed fsync or receipt naks; the redelivery is skipped as already stored
   * (or written again, after a failed fsync) and its receipt sent again.
   */
  private consumeInbox(): void {
    const { logger } = this.options;
    void consumePipelined({
      js: this.nc!.jetstream(),
      stream: Streams.messages.name,
      consumer: Consumers.inbox(this.id),
      type: InboxMessage,
      batchSize: this.options.inboxBatch,
      maxDeliver: -1,
      logger,
      signal: this.abort.signal,
      stage: (items) => this.store(items),
      commit: (items) => this.receipt(items),
      commitSize: RECEIPT_CHUNK,
      commitsInFlight: RECEIPTS_IN_FLIGHT,
      // The consumer holds at most 10,000 unacked messages.
      maxUnsettled: 10_000,
      onFetchError: (error) => logger.debug({ err: error }, 'inbox fetch failed; retrying'),
      // Only the hub creates a machine's consumers: saying hello again has it make them (and re-send what was lost).
      ensure: () => this.hello(),
    });
  }

  /** Writes the messages not stored yet to the inbox file (not yet fsync'ed: `receipt` waits for that). */
  private async store(items: Delivered<InboxMessage>[]): Promise<void> {
    const fresh = await this.options.store.write(items.map((i) => i.payload));
    const [first] = fresh;
    if (first) {
      this.options.logger.info({ count: fresh.length, from: first.from.name }, 'messages received');
    }
  }

  /**
   * Once the messages are on disk, tells the hub they were delivered (those skipped as
   * already stored too: the receipt is idempotent).
   */
  private async receipt(items: Delivered<InboxMessage>[]): Promise<void> {
    await this.options.store.sync();
    await request<ReceiptReply>(
      this.nc!,
      MachineSubjects.delivered(this.id),
      { v: 1, ids: items.map((i) => i.payload.id) },
      10_000,
    );
  }

  private async reportReads() {
    if (this.reporting || !this.nc) {
      return;
    }
    this.reporting = true;
    try {
      const { ids, offset } = await this.options.store.unreportedReads();
      for (let i = 0; i < ids.length; i += RECEIPT_CHUNK) {
        await request<ReceiptReply>(
          this.nc,
          MachineSubjects.read(this.id),
          { v: 1, ids: ids.slice(i, i + RECEIPT_CHUNK) },
          10_000,
        );
      }
      if (ids.length) {
        await this.options.store.markReported(offset);
      }
    } catch (error) {
      this.options.logger.debug({ err: error }, 'read receipts not reported yet; will retry');
    } finally {
      this.reporting = false;
    }
  }

  /**
   * Stops: no new work; running attempts get `graceMs` to finish and the rest are handed
   * back (queued again at once on the hub); then goodbye, so the machine is offline now,
   * not after its missed heartbeats; then the connection drains.
   */
  async stop({ revoked = false } = {}): Promise<void> {
    // Revoked: nothing may be reported any more, so tasks stop at once and nothing is said.
    const graceMs = revoked ? 0 : this.options.stopGraceMs;
    for (const t of this.timers) {
      clearInterval(t);
    }
    await this.executor?.drain(graceMs);
    this.abort.abort();
    this.notes?.unsubscribe();
    await this.sessions?.stop();
    await this.socket?.stop();
    if (this.nc && !this.nc.isClosed() && !revoked) {
      await machineRequest(this.nc, 'goodbye', this.id, { v: 1 }, 5_000).then(
        () => this.options.logger.info('said goodbye: offline'),
        (error: unknown) =>
          this.options.logger.warn({ err: error }, 'goodbye not heard; offline after missed heartbeats'),
      );
    }
    await this.nc?.drain().catch(() => undefined);
    // The helper stops whatever of this run still runs, and exits.
    this.helper?.close();
  }
}
