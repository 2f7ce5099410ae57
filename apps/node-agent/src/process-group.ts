import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

import type { MarkFilter } from './process-marks';
import { findMarked, MARK_VARIABLE, markedBy, signalEach, stopMarked } from './process-marks';

/** stdout kept for the caller (the rest still goes to `onOutput`). */
export const CAPTURE_CHARS = 1024 * 1024;
/**
 * Once the program and everything it marked are gone, how long its output may take to end.
 * Only an unmarked process (one that cleared its environment) can hold it open longer; its
 * output is then no longer read.
 */
const OUTPUT_DRAIN_MS = 1_000;

export interface ProcessGroupOptions {
  cwd: string;
  /** The whole environment of the program (nothing is inherited). */
  env: NodeJS.ProcessEnv;
  /** This program's mark (process-marks.ts): it and everything it starts carry it in their environment. */
  mark: string;
  /** Written to the program's stdin, which is then closed; none: stdin is /dev/null. */
  stdin?: string;
  /** Each piece of output as it arrives (UTF-8, split anywhere). */
  onOutput?: (stream: 'stdout' | 'stderr', data: string) => void;
  /** Aborting it stops the program: SIGINT, SIGTERM after half of `graceMs`, SIGKILL after `graceMs`. */
  signal: AbortSignal;
  graceMs: number;
  /**
   * Leave what it starts running, unmarked: no mark in its environment and no sweep once it
   * has ended (tmux, whose server must outlive the client that started it and the agent).
   */
  keep?: boolean;
  /** Keep stdout for the result (default); off where the output only streams (the task helper). */
  captureStdout?: boolean;
}

function withoutMark(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy[MARK_VARIABLE];
  return copy;
}

export interface ProcessGroupResult {
  /** null when a signal ended it. */
  exitCode: number | null;
  /** Its stdout, up to 1 MiB. */
  stdout: string;
}

/**
 * One program (an argument array, never a shell string) in its own process group and
 * session, with its mark in its environment, so that stopping it stops whatever it started:
 * each signal goes to the group and to every process carrying the mark, which finds those
 * that left the group (setsid, double fork, nohup).
 *
 * The program has ended when its own process has exited: output held open by something it
 * left running is not waited for. What it left running then gets SIGTERM, and SIGKILL half
 * a grace period later, before the result is returned.
 *
 * It runs in the agent's task helper (task-helper-main.ts), which loads nothing else of the
 * agent's: keep its imports to Node's own modules and process-marks.ts.
 */
export class ProcessGroup {
  private readonly child: ChildProcess;
  private readonly owned: MarkFilter;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly outputClosed: Promise<void>[] = [];
  private stdout = '';

  private constructor(
    program: string,
    args: string[],
    private readonly options: ProcessGroupOptions,
  ) {
    this.owned = markedBy(options.mark);
    this.child = spawn(program, args, {
      cwd: options.cwd,
      env: options.keep ? withoutMark(options.env) : { ...options.env, [MARK_VARIABLE]: options.mark },
      // its own session and process group
      detached: true,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    // A program that exits without reading its stdin is not an error of ours.
    this.child.stdin?.on('error', () => undefined);
    this.child.stdin?.end(options.stdin);
    this.listen('stdout', this.child.stdout);
    this.listen('stderr', this.child.stderr);
  }

  /** Starts `argv`; resolves once it has ended and what it left running is gone. Refuses once `signal` is aborted. */
  static async run(argv: string[], options: ProcessGroupOptions): Promise<ProcessGroupResult> {
    if (options.signal.aborted) {
      return { exitCode: null, stdout: '' };
    }
    const [program, ...args] = argv;
    if (program === undefined) {
      throw new Error('no program to run: the argument array is empty');
    }
    return new ProcessGroup(program, args, options).wait(program);
  }

  private async wait(program: string): Promise<ProcessGroupResult> {
    const stop = () => this.stop();
    this.options.signal.addEventListener('abort', stop, { once: true });
    try {
      const exitCode = await new Promise<number | null>((resolve, reject) => {
        this.child.once('error', (error) => reject(new Error(`cannot start ${program}: ${error.message}`)));
        this.child.once('exit', (code) => resolve(code));
      });
      if (!this.options.keep) {
        this.signalGroup('SIGTERM');
        await stopMarked(this.owned, Math.ceil(this.options.graceMs / 2));
        this.signalGroup('SIGKILL');
      }
      await this.drainOutput();
      return { exitCode, stdout: this.stdout };
    } finally {
      this.options.signal.removeEventListener('abort', stop);
      for (const timer of this.timers) {
        clearTimeout(timer);
      }
    }
  }

  /** Interrupt now, terminate after half the grace period, kill at its end: the group and every marked process. */
  private stop(): void {
    void this.signal('SIGINT');
    const half = Math.ceil(this.options.graceMs / 2);
    this.timers.push(setTimeout(() => void this.signal('SIGTERM'), half));
    this.timers.push(setTimeout(() => void this.signal('SIGKILL'), 2 * half));
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    this.signalGroup(signal);
    signalEach(await findMarked(this.owned), signal);
  }

  /**
   * The group outlives its leader while any member lives, so this still reaches a member
   * that cleared its environment; once the whole group is gone there is nothing to signal.
   */
  private signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) {
      return;
    }
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // the group is gone
    }
  }

  /** Waits for the output to end; a pipe still held by an unmarked process is closed on our side. */
  private async drainOutput(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), OUTPUT_DRAIN_MS)));
    const ended = Promise.all(this.outputClosed).then(() => false);
    if (await Promise.race([ended, late])) {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
      await ended;
    }
    clearTimeout(timer);
  }

  private listen(stream: 'stdout' | 'stderr', readable: Readable | null) {
    if (!readable) {
      return;
    }
    const decoder = new StringDecoder('utf8');
    const take = (data: string) => {
      if (!data) {
        return;
      }
      if (stream === 'stdout' && this.options.captureStdout !== false && this.stdout.length < CAPTURE_CHARS) {
        this.stdout += data;
      }
      this.options.onOutput?.(stream, data);
    };
    readable.on('data', (chunk: Buffer) => take(decoder.write(chunk)));
    this.outputClosed.push(new Promise((resolve) => readable.once('close', () => resolve(take(decoder.end())))));
  }
}
