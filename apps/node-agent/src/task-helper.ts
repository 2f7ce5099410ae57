import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import type { Logger } from '@waggle/observability';

import type { ProcessGroupOptions, ProcessGroupResult } from './process-group';
import { CAPTURE_CHARS } from './process-group';
import type { HelperEvent, HelperRequest } from './task-helper-protocol';

/** The helper program (task-helper-main.ts, compiled beside this file). */
const HELPER_MAIN = join(__dirname, 'task-helper-main.js');
/** A helper that lived this long is started again at once; one that died sooner, after a growing pause. */
const STEADY_MS = 10_000;
const RESTART_MS = 1_000;
const MAX_RESTART_MS = 30_000;
/** The grace of a probe's stop once it ran out of time. */
const PROBE_GRACE_MS = 500;

/** The helper died while it ran this program: nothing more is known of it (its processes are swept by its mark). */
export class TaskHelperLostError extends Error {
  constructor(program: string, how: string) {
    super(`the task helper died (${how}) while it ran ${program}`);
    this.name = 'TaskHelperLostError';
  }
}

/** What runs programs for the agent: the task helper, or a stand-in. */
export interface ProgramRunner {
  /** Runs `argv` in its own process group (process-group.ts), with the same guarantees. */
  run(argv: string[], options: ProcessGroupOptions): Promise<ProcessGroupResult>;
  /** Stops every process carrying `mark` (SIGTERM, SIGKILL after `graceMs`); resolves how many there were. */
  sweep(mark: string, graceMs: number): Promise<number>;
}

export interface TaskHelperOptions {
  /** The agent's mark: the helper stops every process carrying it once the agent is gone. */
  mark: string;
  /** SIGTERM first, SIGKILL after this long, when the agent is gone. */
  graceMs: number;
  /** The helper's environment (the agent's without its secrets); programs get their own. */
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

interface PendingRun {
  request: Extract<HelperRequest, { t: 'run' }>;
  options: ProcessGroupOptions;
  stdout: string;
  sent: boolean;
  resolve: (result: ProcessGroupResult) => void;
  reject: (error: Error) => void;
  onAbort: () => void;
}

interface PendingSweep {
  request: Extract<HelperRequest, { t: 'sweep' }>;
  sent: boolean;
  resolve: (count: number) => void;
}

/**
 * The agent's task helper: one small Node process (task-helper-main.ts, Node's own modules
 * only) that starts every program the agent runs, so the agent never forks itself. A fork
 * copies the parent's page tables and waits for the child's exec: from a ~100 MB agent that
 * held its event loop for milliseconds per task, from the helper it holds nothing of the
 * agent's. The helper also does the /proc scans that find a program's leftovers, and it is
 * the agent's watchdog: only the agent holds the other end of its channel, so however the
 * agent ends, SIGKILL included, the helper then stops every process of the agent's life.
 *
 * Should the helper die, the agent starts another at once (after a growing pause if it
 * keeps dying). A program it was running is lost: `run` rejects with `TaskHelperLostError`
 * (the attempt is abandoned and its processes swept by mark; the hub retries it once the
 * lease expires). What was asked while no helper ran waits for the next one.
 */
export class TaskHelper implements ProgramRunner {
  private child?: ChildProcess;
  private ready = false;
  private closed = false;
  private nextId = 0;
  private probes = 0;
  private startedAt = 0;
  private pauseMs = 0;
  private restart?: NodeJS.Timeout;
  private readonly runs = new Map<number, PendingRun>();
  private readonly sweeps = new Map<number, PendingSweep>();

  constructor(private readonly options: TaskHelperOptions) {}

  /** The running helper's pid. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): this {
    const { mark, graceMs, env, logger } = this.options;
    const child = spawn(process.execPath, [HELPER_MAIN, mark, String(graceMs)], {
      env,
      // its own session: a Ctrl-C for the agent does not reach it
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    this.ready = false;
    this.startedAt = Date.now();
    child.on('message', (event: HelperEvent) => this.onEvent(event));
    child.on('error', (error) => logger.error({ err: error }, 'task helper error'));
    child.once('exit', (code, signal) => this.onExit(child, code ?? signal ?? 'unknown'));
    // Neither the helper nor an idle channel keeps the agent's event loop alive.
    child.unref();
    this.updateRef();
    return this;
  }

  run(argv: string[], options: ProcessGroupOptions): Promise<ProcessGroupResult> {
    if (options.signal.aborted) {
      return Promise.resolve({ exitCode: null, stdout: '' });
    }
    const [program] = argv;
    if (program === undefined) {
      return Promise.reject(new Error('no program to run: the argument array is empty'));
    }
    if (this.closed) {
      return Promise.reject(new Error(`cannot start ${program}: the agent is stopping`));
    }
    return new Promise<ProcessGroupResult>((resolve, reject) => {
      const id = ++this.nextId;
      const request: PendingRun['request'] = {
        t: 'run',
        id,
        argv,
        cwd: options.cwd,
        env: options.env,
        mark: options.mark,
        stdin: options.stdin,
        graceMs: options.graceMs,
        keep: options.keep,
      };
      const run: PendingRun = {
        request,
        options,
        stdout: '',
        sent: false,
        resolve,
        reject,
        onAbort: () => {
          if (run.sent) {
            this.send({ t: 'stop', id });
          } else {
            // Never started (it waited for a helper): nothing to stop.
            this.settleRun(id, { exitCode: null, stdout: '' });
          }
        },
      };
      this.runs.set(id, run);
      options.signal.addEventListener('abort', run.onAbort, { once: true });
      this.updateRef();
      this.flush();
    });
  }

  sweep(mark: string, graceMs: number): Promise<number> {
    if (this.closed) {
      return Promise.resolve(0);
    }
    return new Promise<number>((resolve) => {
      const id = ++this.nextId;
      this.sweeps.set(id, { request: { t: 'sweep', id, mark, graceMs }, sent: false, resolve });
      this.updateRef();
      this.flush();
    });
  }

  /**
   * Runs a program for the agent's own use (`--version`, `nvidia-smi`): its output (stdout,
   * else stderr), or undefined if it is missing, fails, or is still running after `timeoutMs`.
   */
  async probe(program: string, args: string[], timeoutMs = 5_000): Promise<string | undefined> {
    let stderr = '';
    try {
      const { exitCode, stdout } = await this.run([program, ...args], {
        cwd: process.cwd(),
        env: this.options.env,
        // a mark of its own: a program's end sweeps its mark, and probes run side by side
        mark: `${this.options.mark}/probe/${++this.probes}`,
        signal: AbortSignal.timeout(timeoutMs),
        graceMs: PROBE_GRACE_MS,
        onOutput: (stream, data) => {
          if (stream === 'stderr' && stderr.length < CAPTURE_CHARS) {
            stderr += data;
          }
        },
      });
      return exitCode === 0 ? (stdout || stderr).trim() : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Lets the helper go: it stops every process of the agent's life and exits, as when the
   * agent is gone. What was still asked of it fails.
   */
  close(): void {
    this.closed = true;
    clearTimeout(this.restart);
    if (this.child?.connected) {
      this.child.disconnect();
    }
  }

  private send(request: HelperRequest): boolean {
    if (!this.child?.connected || !this.ready) {
      return false;
    }
    // A failed send means the helper is gone: its exit settles what was sent.
    this.child.send(request, undefined, {}, () => undefined);
    return true;
  }

  /** Sends what waited for a helper. */
  private flush(): void {
    for (const run of this.runs.values()) {
      if (!run.sent) {
        run.sent = this.send(run.request);
      }
    }
    for (const sweep of this.sweeps.values()) {
      if (!sweep.sent) {
        sweep.sent = this.send(sweep.request);
      }
    }
  }

  private onEvent(event: HelperEvent): void {
    switch (event.t) {
      case 'ready':
        this.ready = true;
        this.flush();
        return;
      case 'out': {
        const run = this.runs.get(event.id);
        if (!run) {
          return;
        }
        if (event.stream === 'stdout' && run.options.captureStdout !== false && run.stdout.length < CAPTURE_CHARS) {
          run.stdout += event.data;
        }
        run.options.onOutput?.(event.stream, event.data);
        return;
      }
      case 'done': {
        const run = this.runs.get(event.id);
        if (!run) {
          return;
        }
        if (event.error !== undefined) {
          this.settleRun(event.id, new Error(event.error));
        } else {
          this.settleRun(event.id, { exitCode: event.exitCode, stdout: run.stdout });
        }
        return;
      }
      case 'swept': {
        const sweep = this.sweeps.get(event.id);
        this.sweeps.delete(event.id);
        this.updateRef();
        sweep?.resolve(event.count);
        return;
      }
      case 'log':
        this.options.logger[event.level]({ component: 'task-helper', ...event.fields }, event.msg);
        return;
    }
  }

  private settleRun(id: number, outcome: ProcessGroupResult | Error): void {
    const run = this.runs.get(id);
    if (!run) {
      return;
    }
    this.runs.delete(id);
    run.options.signal.removeEventListener('abort', run.onAbort);
    this.updateRef();
    if (outcome instanceof Error) {
      run.reject(outcome);
    } else {
      run.resolve(outcome);
    }
  }

  private onExit(child: ChildProcess, how: number | string): void {
    if (child !== this.child) {
      return;
    }
    this.child = undefined;
    this.ready = false;
    const lost = [...this.runs.values()].filter((run) => run.sent || this.closed);
    for (const run of lost) {
      this.settleRun(run.request.id, new TaskHelperLostError(run.request.argv[0]!, String(how)));
    }
    if (this.closed) {
      for (const [id, sweep] of this.sweeps) {
        this.sweeps.delete(id);
        sweep.resolve(0);
      }
      this.updateRef();
      return;
    }
    // A sweep is safe to repeat: the next helper does it.
    for (const sweep of this.sweeps.values()) {
      sweep.sent = false;
    }
    const lived = Date.now() - this.startedAt;
    this.pauseMs = lived >= STEADY_MS ? 0 : Math.min(MAX_RESTART_MS, Math.max(RESTART_MS, this.pauseMs * 2));
    this.options.logger.warn(
      { exit: how, lostPrograms: lost.length, restartInMs: this.pauseMs },
      'the task helper ended while the agent runs; starting another',
    );
    this.restart = setTimeout(() => this.start(), this.pauseMs);
  }

  /** The channel keeps the agent alive only while something waits for the helper. */
  private updateRef(): void {
    const channel = this.child?.channel;
    if (!channel) {
      return;
    }
    if (this.runs.size || this.sweeps.size) {
      channel.ref();
    } else {
      channel.unref();
    }
  }
}
