import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';

import type { NatsConnection, Subscription } from 'nats';

import type {
  HookEvent,
  MachineCaptureSession,
  MachineCreateSession,
  MachineResizeSession,
  MachineSendToSession,
  MachineSessionRef,
  MachineWatchSession,
  ScreenView,
  SentReply,
  SessionCli,
  SessionHookRequest,
  SessionReport,
  SessionState,
  WatchReply,
  WindowView,
} from '@waggle/contracts';
import { ErrorCode, MachineSubjects, SessionOpTypes, WaggleError } from '@waggle/contracts';
import { machineRequest, serve } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

import type { ProgramRunner } from '../task-helper';
import type { ScreenPatterns } from './screen-patterns';
import { lastLines, readScreen } from './screen-patterns';
import type { ManagedSession } from './session-store';
import { SessionStore } from './session-store';
import type { SessionStreams } from './session-streams';
import type { Tmux, TmuxPane } from './tmux';
import { TmuxError } from './tmux';

/** After input, a screen that still shows what it showed before is not taken as the answer for this long. */
const SETTLE_MS = 3_000;
/** A screen no pattern recognises is busy while it changed within this long. */
const QUIET_MS = 2_000;
/** A report goes out at least this often (the hub may have lost one), and activity alone at most this often. */
const REPORT_EVERY_MS = 30_000;
const ACTIVITY_REPORT_MS = 5_000;
const EXCERPT_LINES = 15;
const EXCERPT_CHARS = 8_000;

export interface SessionKeeperOptions {
  nc: NatsConnection;
  machineId: string;
  stateDir: string;
  tmux: Tmux;
  /** Live output of watched sessions. */
  streams: SessionStreams;
  /** Runs `waggle hooks install` for a session created with hooks (through the task helper). */
  programs: ProgramRunner;
  /** The environment of programs the agent runs for sessions (`waggle` on PATH). */
  env: NodeJS.ProcessEnv;
  mark: string;
  patterns: Record<SessionCli, ScreenPatterns>;
  /** How often the screens are read, in ms. */
  watchMs: number;
  maxSessions: number;
  /** What each session's program gets in its environment besides the agent's (the local socket, `waggle` on PATH). */
  sessionEnv: Record<string, string>;
  logger: Logger;
}

/** What the agent knows of one session between looks. */
interface Live {
  state: SessionState;
  stateSince: Date;
  source: 'hook' | 'screen';
  turn: number;
  /** Input went in or work was seen since it was last at its prompt the first time: at its prompt it has finished. */
  worked: boolean;
  seenPrompt: boolean;
  hookState?: SessionState;
  sentAt: number;
  sentScreen?: string;
  screen?: string;
  screenChangedAt: number;
  capturedActivity?: number;
  excerpt: string | null;
}

const sessionMissing = (name: string) => WaggleError.notFound('session', name);

/**
 * The machine's agent sessions: tmux sessions on the agent's private server. It answers
 * the hub's requests on this machine's own `down.sessions.*` subjects (NATS permissions let
 * no other machine hear them), reads each session's state from its CLI's hooks or its
 * screen, reports every change to the hub, and remembers the sessions it made
 * (sessions.json) so that it recreates them after a reboot.
 */
export class SessionKeeper {
  private readonly store: SessionStore;
  private readonly live = new Map<string, Live>();
  private panes: TmuxPane[] = [];
  private subs: Subscription[] = [];
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private again = false;
  private lastSignature?: string;
  private lastReportAt = 0;
  private lastActivity = 0;
  private stopped = false;

  constructor(private readonly options: SessionKeeperOptions) {
    this.store = new SessionStore(options.stateDir);
  }

  /** Loads what it manages, recreates what a reboot took, serves the hub, and starts watching. */
  async start(): Promise<void> {
    const { nc, machineId, logger } = this.options;
    await this.options.tmux.writeConfig();
    const managed = await this.store.load();
    const present = new Set((await this.options.tmux.listPanes()).map((p) => p.session));
    for (const session of managed.filter((s) => !present.has(s.name))) {
      try {
        await this.launch(session, true);
        logger.info({ session: session.name }, 'session recreated');
      } catch (error) {
        logger.error({ err: error, session: session.name }, 'could not recreate a session');
      }
    }
    const options = { logger };
    this.subs.push(
      serve(nc, MachineSubjects.sessions(machineId, 'create'), SessionOpTypes.create, (r) => this.create(r), options),
      serve(nc, MachineSubjects.sessions(machineId, 'send'), SessionOpTypes.send, (r) => this.send(r), options),
      serve(
        nc,
        MachineSubjects.sessions(machineId, 'capture'),
        SessionOpTypes.capture,
        (r) => this.capture(r),
        options,
      ),
      serve(nc, MachineSubjects.sessions(machineId, 'resize'), SessionOpTypes.resize, (r) => this.resize(r), options),
      serve(nc, MachineSubjects.sessions(machineId, 'kill'), SessionOpTypes.kill, (r) => this.kill(r), options),
      serve(nc, MachineSubjects.sessions(machineId, 'watch'), SessionOpTypes.watch, (r) => this.watch(r), options),
      serve(
        nc,
        MachineSubjects.sessions(machineId, 'unwatch'),
        SessionOpTypes.unwatch,
        (r) => this.options.streams.unwatch(r.name, r.watcher),
        options,
      ),
    );
    this.timer = setInterval(() => this.kick(), this.options.watchMs);
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const sub of this.subs) {
      sub.unsubscribe();
    }
    await Promise.all([this.ticking, this.options.streams.stopAll()]);
  }

  /** The hub may have lost what it knew (a reconnect, a new hello): the next look reports in full. */
  reportAgain(): void {
    this.lastSignature = undefined;
    this.kick();
  }

  /** A CLI hook inside a session said what happened (through the agent's local socket). */
  async hook(req: SessionHookRequest): Promise<{ recorded: true }> {
    // A CLI's first hook may come before the agent's first look at its session.
    const live = this.live.get(req.session) ?? (await this.present(req.session));
    const state: Partial<Record<HookEvent, SessionState>> = {
      'session-start': 'idle',
      'prompt-submit': 'busy',
      notification: 'needs_input',
      stop: 'finished',
    };
    const next = state[req.event];
    if (next) {
      live.hookState = next;
      if (next === 'busy') {
        live.worked = true;
      }
    }
    const managed = this.store.get(req.session);
    if (managed && req.cliSessionId && managed.cliSessionId !== req.cliSessionId) {
      await this.store.put({ ...managed, cliSessionId: req.cliSessionId });
    }
    this.kick();
    return { recorded: true };
  }

  // ——— the hub's requests ———

  async create(req: MachineCreateSession): Promise<SessionReport> {
    const panes = await this.options.tmux.listPanes();
    if (panes.some((p) => p.session === req.name) || this.store.get(req.name)) {
      throw new WaggleError(ErrorCode.Conflict, `a session named ${req.name} exists on this machine`);
    }
    if (new Set(panes.map((p) => p.session)).size >= this.options.maxSessions) {
      throw new WaggleError(
        ErrorCode.Conflict,
        `this machine runs its maximum of ${this.options.maxSessions} sessions`,
      );
    }
    const cwd = req.cwd ?? homedir();
    const isDir = await stat(cwd).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) {
      throw WaggleError.invalid(`cwd ${cwd} is not a directory on this machine`, [
        { field: 'cwd', errors: ['not a directory on the machine'] },
      ]);
    }
    if (req.hooks) {
      await this.installHooks(req.name, req.cli, cwd);
    }
    const session: ManagedSession = {
      name: req.name,
      command: req.command,
      cwd,
      cli: req.cli,
      labels: req.labels,
      width: req.width,
      height: req.height,
      createdAt: new Date().toISOString(),
    };
    await this.launch(session, false);
    await this.store.put(session);
    this.options.logger.info({ session: req.name, program: req.command[0] }, 'session created');
    return this.reportOf(req.name);
  }

  async send(req: MachineSendToSession): Promise<SentReply> {
    const live = await this.present(req.name);
    const keys = [...(req.enter ? ['Enter'] : []), ...(req.keys ?? [])];
    await this.tmuxCall(() => this.options.tmux.send(req.name, req.text, keys));
    live.turn += 1;
    live.worked = true;
    live.sentAt = Date.now();
    live.sentScreen = live.screen;
    if (live.hookState) {
      live.hookState = 'busy';
    }
    this.setState(live, 'busy', live.hookState ? 'hook' : 'screen');
    this.kick();
    return { turn: live.turn };
  }

  async capture(req: MachineCaptureSession): Promise<ScreenView> {
    await this.present(req.name);
    const [text = ''] = await this.tmuxCall(() => this.options.tmux.capture([req.name], req.scrollback ?? 0));
    const pane = this.mainPane(this.panes.filter((p) => p.session === req.name));
    return {
      text: text.replace(/\n+$/, '\n'),
      width: pane?.width ?? 0,
      height: pane?.height ?? 0,
      capturedAt: new Date().toISOString(),
    };
  }

  async resize(req: MachineResizeSession): Promise<SessionReport> {
    await this.present(req.name);
    await this.tmuxCall(() => this.options.tmux.resize(req.name, req.width, req.height));
    const managed = this.store.get(req.name);
    if (managed) {
      await this.store.put({ ...managed, width: req.width, height: req.height });
    }
    return this.reportOf(req.name);
  }

  async kill(req: MachineSessionRef): Promise<{ killed: true }> {
    const exists = await this.options.tmux.hasSession(req.name);
    if (!exists && !this.store.get(req.name)) {
      throw sessionMissing(req.name);
    }
    await this.options.streams.stopSession(req.name);
    if (exists) {
      await this.tmuxCall(() => this.options.tmux.kill(req.name));
    }
    await this.store.remove(req.name);
    this.live.delete(req.name);
    this.options.logger.info({ session: req.name }, 'session killed');
    this.kick();
    return { killed: true };
  }

  /** Streams the session's output while this watcher renews its lease. */
  async watch(req: MachineWatchSession): Promise<WatchReply> {
    await this.present(req.name);
    return this.options.streams.watch(req.name, req.watcher, req.leaseMs);
  }

  // ——— watching ———

  /** Looks now, or right after the look running. */
  private kick(): void {
    if (this.stopped) {
      return;
    }
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'session watch failed; will look again'))
      .finally(() => {
        this.ticking = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async tick(): Promise<void> {
    await this.look();
    await this.report();
  }

  /** Lists every pane (one tmux call) and reads the screens that may have changed (one more). */
  private async look(): Promise<void> {
    const panes = await this.options.tmux.listPanes();
    this.panes = panes;
    const names = [...new Set(panes.map((p) => p.session))];
    for (const name of this.live.keys()) {
      if (!names.includes(name)) {
        this.live.delete(name);
      }
    }
    const now = Date.now();
    const toRead = names.filter((name) => {
      const live = this.live.get(name);
      const activity = Math.max(...panes.filter((p) => p.session === name).map((p) => p.activity));
      return !live || live.capturedActivity !== activity || live.state === 'busy' || now - live.sentAt < SETTLE_MS * 2;
    });
    const screens = await this.options.tmux.capture(toRead).catch((error: unknown) => {
      // A session that ended between the two calls: the next look no longer lists it.
      if (error instanceof TmuxError) {
        return [];
      }
      throw error;
    });
    for (const [i, name] of toRead.entries()) {
      const live = this.liveOf(name);
      const screen = screens[i];
      if (screen === undefined) {
        continue;
      }
      if (screen !== live.screen) {
        live.screen = screen;
        live.screenChangedAt = now;
      }
      live.capturedActivity = Math.max(...panes.filter((p) => p.session === name).map((p) => p.activity));
    }
    for (const name of names) {
      this.classify(
        name,
        this.liveOf(name),
        panes.filter((p) => p.session === name),
        now,
      );
    }
  }

  private liveOf(name: string): Live {
    let live = this.live.get(name);
    if (!live) {
      live = {
        state: 'busy',
        stateSince: new Date(),
        source: 'screen',
        turn: 0,
        worked: false,
        seenPrompt: false,
        sentAt: 0,
        screenChangedAt: Date.now(),
        excerpt: null,
      };
      this.live.set(name, live);
    }
    return live;
  }

  private classify(name: string, live: Live, panes: TmuxPane[], now: number): void {
    const main = this.mainPane(panes);
    const cli = this.store.get(name)?.cli ?? 'other';
    if (main?.dead) {
      this.setState(live, 'exited', 'screen');
    } else if (live.hookState) {
      this.setState(live, live.hookState, 'hook');
    } else {
      const read = readScreen(live.screen ?? '', this.options.patterns[cli]);
      const unchangedSinceInput = now - live.sentAt < SETTLE_MS && live.screen === live.sentScreen;
      let state: SessionState;
      if (read === 'needs_input' || read === 'busy') {
        state = read;
      } else if (read === 'prompt' && !unchangedSinceInput) {
        state = live.worked ? 'finished' : 'idle';
      } else if (read === undefined && now - live.screenChangedAt >= QUIET_MS && !unchangedSinceInput) {
        state = live.worked ? 'finished' : 'idle';
      } else {
        state = 'busy';
      }
      if (read === 'prompt') {
        live.seenPrompt = true;
      }
      if ((state === 'busy' || state === 'needs_input') && live.seenPrompt) {
        live.worked = true;
      }
      this.setState(live, state, 'screen');
    }
    live.excerpt =
      live.state === 'needs_input' || live.state === 'finished' || live.state === 'exited'
        ? lastLines(live.screen ?? '', EXCERPT_LINES)
            .join('\n')
            .slice(-EXCERPT_CHARS)
        : null;
  }

  private setState(live: Live, state: SessionState, source: 'hook' | 'screen'): void {
    live.source = source;
    if (live.state !== state) {
      live.state = state;
      live.stateSince = new Date();
    }
  }

  /** The pane a session's state is read from: the active pane of its active window. */
  private mainPane(panes: TmuxPane[]): TmuxPane | undefined {
    return panes.find((p) => p.windowActive && p.paneActive) ?? panes[0];
  }

  private reports(): SessionReport[] {
    const names = [...new Set(this.panes.map((p) => p.session))];
    return names.map((name) =>
      this.toReport(
        name,
        this.panes.filter((p) => p.session === name),
      ),
    );
  }

  private toReport(name: string, panes: TmuxPane[]): SessionReport {
    const live = this.liveOf(name);
    const managed = this.store.get(name);
    const main = this.mainPane(panes);
    const windows = new Map<number, WindowView>();
    for (const p of panes) {
      const window = windows.get(p.windowIndex) ?? {
        index: p.windowIndex,
        name: p.windowName.slice(0, 200),
        active: p.windowActive,
        panes: [],
      };
      window.panes.push({
        index: p.paneIndex,
        command: p.command,
        cwd: p.cwd,
        pid: p.pid,
        dead: p.dead,
        width: p.width,
        height: p.height,
      });
      windows.set(p.windowIndex, window);
    }
    return {
      name,
      cli: managed?.cli ?? 'other',
      state: live.state,
      stateSince: live.stateSince.toISOString(),
      stateSource: live.source,
      turn: live.turn,
      activityAt: new Date(Math.max(0, ...panes.map((p) => p.activity)) * 1000).toISOString(),
      command: managed?.command ?? (main ? [main.command] : []),
      cwd: main?.cwd ?? managed?.cwd ?? '',
      labels: managed?.labels ?? [],
      windows: [...windows.values()],
      excerpt: live.excerpt,
      exitStatus: main?.dead ? main.deadStatus : null,
    };
  }

  /** One session as it is now (after a create or resize). */
  private async reportOf(name: string): Promise<SessionReport> {
    await this.look();
    const panes = this.panes.filter((p) => p.session === name);
    if (!panes.length) {
      throw sessionMissing(name);
    }
    return this.toReport(name, panes);
  }

  /** Sends the hub the whole picture when it changed (activity alone: every few seconds at most). */
  private async report(): Promise<void> {
    const sessions = this.reports();
    const signature = JSON.stringify(sessions.map((s) => ({ ...s, activityAt: undefined })));
    const activity = Math.max(0, ...this.panes.map((p) => p.activity));
    const now = Date.now();
    const due =
      signature !== this.lastSignature ||
      now - this.lastReportAt > REPORT_EVERY_MS ||
      (activity !== this.lastActivity && now - this.lastReportAt > ACTIVITY_REPORT_MS);
    if (!due) {
      return;
    }
    try {
      await machineRequest(this.options.nc, 'sessionsReport', this.options.machineId, { v: 1, sessions }, 10_000);
      this.lastSignature = signature;
      this.lastReportAt = now;
      this.lastActivity = activity;
    } catch (error) {
      this.options.logger.debug({ err: error }, 'sessions not reported yet; will retry');
    }
  }

  // ——— helpers ———

  /** Starts a session's program in tmux: new, or again after a reboot (Claude Code resumes its last session). */
  private async launch(session: ManagedSession, again: boolean): Promise<void> {
    let argv = session.command;
    if (again && session.cli === 'claude' && session.cliSessionId && !argv.includes('--resume')) {
      argv = [...argv, '--resume', session.cliSessionId];
    }
    await this.tmuxCall(() =>
      this.options.tmux.newSession({
        name: session.name,
        argv,
        cwd: session.cwd,
        width: session.width,
        height: session.height,
        env: { ...this.options.sessionEnv, WAGGLE_SESSION: session.name },
      }),
    );
    this.live.delete(session.name);
  }

  /**
   * `waggle hooks install` for the session's CLI (the same command a person runs): in the
   * session's directory for Claude Code and Gemini CLI, user-wide for Codex (it reads its
   * notify program from ~/.codex only). Already installed is fine; a refusal is the caller's 400.
   */
  private async installHooks(name: string, cli: SessionCli, cwd: string): Promise<void> {
    if (cli !== 'claude' && cli !== 'codex' && cli !== 'gemini') {
      throw WaggleError.invalid(`hooks are for claude, codex and gemini sessions, not ${cli}`, [
        { field: 'hooks', errors: ['only for cli claude, codex or gemini'] },
      ]);
    }
    let stderr = '';
    const { exitCode } = await this.options.programs.run(
      ['waggle', 'hooks', 'install', cli, ...(cli === 'codex' ? [] : ['--project', cwd])],
      {
        cwd,
        env: this.options.env,
        mark: `${this.options.mark}/hooks/${name}`,
        signal: AbortSignal.timeout(30_000),
        graceMs: 1_000,
        onOutput: (stream, data) => {
          if (stream === 'stderr' && stderr.length < 2_000) {
            stderr += data;
          }
        },
      },
    );
    if (exitCode !== 0) {
      throw WaggleError.invalid(`waggle hooks install ${cli}: ${stderr.trim().slice(0, 500) || `exit ${exitCode}`}`, [
        { field: 'hooks', errors: ['could not be installed on the machine'] },
      ]);
    }
  }

  private async present(name: string): Promise<Live> {
    if (!(await this.options.tmux.hasSession(name))) {
      throw sessionMissing(name);
    }
    return this.liveOf(name);
  }

  /** tmux's refusals are the caller's (a bad key name, a size tmux will not take): 400 with its words. */
  private async tmuxCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof TmuxError) {
        throw WaggleError.invalid(`tmux: ${error.message}`);
      }
      throw error;
    }
  }
}
