import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

import { execa } from 'execa';
import type { ResultPromise } from 'execa';

/** stdout kept for the caller (the rest still goes to `onOutput`). */
const CAPTURE_CHARS = 1024 * 1024;

export interface ProcessGroupOptions {
  cwd: string;
  /** The whole environment of the program (nothing is inherited). */
  env: NodeJS.ProcessEnv;
  /** Written to the program's stdin, which is then closed; none: stdin is /dev/null. */
  stdin?: string;
  /** Each piece of output as it arrives (UTF-8, split anywhere). */
  onOutput?: (stream: 'stdout' | 'stderr', data: string) => void;
  /** Aborting it stops the group: SIGINT, SIGTERM after half of `graceMs`, SIGKILL after `graceMs`. */
  signal: AbortSignal;
  graceMs: number;
}

export interface ProcessGroupResult {
  /** null when a signal ended it. */
  exitCode: number | null;
  /** Its stdout, up to 1 MiB. */
  stdout: string;
}

/**
 * One program (an argument array, never a shell string) in its own process group, so that
 * stopping it stops whatever it started. execa's `killDescendants` puts it in its own group
 * and signals the whole group; `forceKillAfterDelay` turns the SIGTERM into a SIGKILL, and
 * `cleanup` signals the group when the agent itself exits.
 */
export class ProcessGroup {
  private readonly subprocess: ResultPromise;
  private readonly timers: NodeJS.Timeout[] = [];
  private stdout = '';

  private constructor(
    program: string,
    args: string[],
    private readonly options: ProcessGroupOptions,
  ) {
    this.subprocess = execa(program, args, {
      cwd: options.cwd,
      env: options.env,
      extendEnv: false,
      ...(options.stdin === undefined ? { stdin: 'ignore' as const } : { input: options.stdin }),
      // Output is streamed (below), not collected by execa.
      buffer: false,
      reject: false,
      killDescendants: true,
      killSignal: 'SIGTERM',
      forceKillAfterDelay: Math.ceil(options.graceMs / 2),
      cleanup: true,
    });
    this.listen('stdout', this.subprocess.stdout);
    this.listen('stderr', this.subprocess.stderr);
  }

  /** Starts `argv`; resolves when the program and its output have ended. Refuses once `signal` is aborted. */
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
      const result = await this.subprocess;
      if (result.exitCode === undefined && result.signal === undefined) {
        const cause = result.cause instanceof Error ? result.cause.message : result.shortMessage;
        throw new Error(`cannot start ${program}: ${cause}`);
      }
      return { exitCode: result.exitCode ?? null, stdout: this.stdout };
    } finally {
      this.options.signal.removeEventListener('abort', stop);
      for (const timer of this.timers) {
        clearTimeout(timer);
      }
    }
  }

  /** Interrupt now, terminate after half the grace period; execa kills the group the other half later. */
  private stop(): void {
    this.subprocess.kill('SIGINT');
    this.timers.push(setTimeout(() => this.subprocess.kill('SIGTERM'), Math.ceil(this.options.graceMs / 2)));
  }

  private listen(stream: 'stdout' | 'stderr', readable: Readable | null) {
    const decoder = new StringDecoder('utf8');
    const take = (data: string) => {
      if (!data) {
        return;
      }
      if (stream === 'stdout' && this.stdout.length < CAPTURE_CHARS) {
        this.stdout += data;
      }
      this.options.onOutput?.(stream, data);
    };
    readable?.on('data', (chunk: Buffer) => take(decoder.write(chunk)));
    readable?.on('end', () => take(decoder.end()));
  }
}
