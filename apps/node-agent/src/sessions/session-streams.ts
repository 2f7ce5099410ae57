import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { NatsConnection } from 'nats';

import type { SessionOutputChunk, WatchReply } from '@waggle/contracts';
import { ErrorCode, MachineSubjects, MAX_OUTPUT_CHUNK_CHARS, WaggleError } from '@waggle/contracts';
import { encodeJson } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

import type { ProgramRunner } from '../task-helper';
import { OutputBuffer } from './output-buffer';
import type { Tmux } from './tmux';

/** Output gathered this long goes out as one message (a burst of small writes is one message, not hundreds). */
const FLUSH_MS = 25;
/** Most output held for one session between flushes; beyond it the oldest is dropped (and counted). */
export const MAX_BUFFERED_CHARS = 64 * 1024;
/** Sessions streamed at once, and watchers (gateway replicas) holding a lease on one session. */
const MAX_STREAMS = 16;
const MAX_WATCHERS = 16;

export interface SessionStreamsOptions {
  nc: NatsConnection;
  machineId: string;
  stateDir: string;
  tmux: Tmux;
  programs: ProgramRunner;
  env: NodeJS.ProcessEnv;
  /** The agent's mark: each reader runs under a mark of its own beneath it (the helper sweeps them with the agent). */
  mark: string;
  logger: Logger;
}

/** One watched session: a FIFO that tmux's pipe-pane writes the pane's output into, and a reader of it. */
interface Stream {
  name: string;
  fifo: string;
  /** watcher → when its lease ends (ms since the epoch). */
  leases: Map<string, number>;
  abort: AbortController;
  output: OutputBuffer;
  seq: number;
  flushTimer?: NodeJS.Timeout;
  leaseTimer?: NodeJS.Timeout;
  /** Settles once the reader has ended and the pipe and FIFO are gone. */
  ended: Promise<void>;
  stopping: boolean;
}

/**
 * Live terminal output of the sessions someone watches, and of no other. A watch starts
 * `tmux pipe-pane -O` on the session's pane into a FIFO in the state dir, read by `cat` run
 * through the task helper (the agent never forks; the reader streams like a task's output).
 * Pieces are gathered for FLUSH_MS and published on the machine's own
 * `up.sessions.output.<name>` subject (core NATS: a watcher that falls behind loses output,
 * never the agent its memory), at most MAX_BUFFERED_CHARS held per session, oldest dropped
 * first. Each watcher holds a lease it renews by watching again; once no lease is left (or
 * the last watcher says it is gone, or the session ends) the pipe is closed, the reader
 * exits and the FIFO is removed.
 */
export class SessionStreams {
  private readonly streams = new Map<string, Stream>();
  private readonly starting = new Map<string, Promise<Stream>>();
  private readonly dir: string;

  constructor(private readonly options: SessionStreamsOptions) {
    this.dir = join(options.stateDir, 'streams');
  }

  /** Sessions streaming now. */
  get watched(): string[] {
    return [...this.streams.keys()];
  }

  /** Starts streaming the session for this watcher, or renews its lease. */
  async watch(name: string, watcher: string, leaseMs: number): Promise<WatchReply> {
    let stream = this.streams.get(name);
    if (stream?.stopping) {
      await stream.ended;
      stream = this.streams.get(name);
    }
    if (!stream) {
      // Two watchers asking at once share one start (never two FIFOs and readers for one pane).
      let starting = this.starting.get(name);
      if (!starting) {
        if (this.streams.size + this.starting.size >= MAX_STREAMS) {
          throw new WaggleError(ErrorCode.Conflict, `this machine streams its maximum of ${MAX_STREAMS} sessions`);
        }
        starting = this.start(name).finally(() => this.starting.delete(name));
        this.starting.set(name, starting);
      }
      stream = await starting;
    }
    if (!stream.leases.has(watcher) && stream.leases.size >= MAX_WATCHERS) {
      throw new WaggleError(ErrorCode.Conflict, `session ${name} has its maximum of ${MAX_WATCHERS} watchers`);
    }
    stream.leases.set(watcher, Date.now() + leaseMs);
    this.scheduleLeaseCheck(stream);
    return { watching: true };
  }

  /** The watcher is gone: the stream stops when it held the last lease. */
  async unwatch(name: string, watcher: string): Promise<WatchReply> {
    const stream = this.streams.get(name);
    if (!stream) {
      return { watching: false };
    }
    stream.leases.delete(watcher);
    if (stream.leases.size === 0) {
      await this.stop(stream, 'no watcher left');
      return { watching: false };
    }
    return { watching: true };
  }

  /** Stops every stream (the agent stops, or the session was killed). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => this.stop(s, 'agent stopping')));
  }

  async stopSession(name: string): Promise<void> {
    const stream = this.streams.get(name);
    if (stream) {
      await this.stop(stream, 'session killed');
    }
  }

  private async start(name: string): Promise<Stream> {
    const { programs, env, mark, tmux, logger } = this.options;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const fifo = join(this.dir, `${name}.fifo`);
    await rm(fifo, { force: true });
    const made = await programs.run(['mkfifo', '-m', '600', '--', fifo], {
      cwd: this.dir,
      env,
      mark: `${mark}/mkfifo/${name}`,
      signal: AbortSignal.timeout(5_000),
      graceMs: 500,
    });
    if (made.exitCode !== 0) {
      throw new Error(`mkfifo ${fifo} failed (exit ${made.exitCode})`);
    }
    const abort = new AbortController();
    let ended!: () => void;
    const stream: Stream = {
      name,
      fifo,
      leases: new Map(),
      abort,
      output: new OutputBuffer(MAX_BUFFERED_CHARS, MAX_OUTPUT_CHUNK_CHARS),
      seq: 0,
      ended: new Promise<void>((resolve) => (ended = resolve)),
      stopping: false,
    };
    this.streams.set(name, stream);
    // The reader first: it waits in open() for the writer tmux starts next.
    const reader = programs.run(['cat', '--', fifo], {
      cwd: this.dir,
      env,
      mark: `${mark}/stream/${name}`,
      signal: abort.signal,
      graceMs: 1_000,
      captureStdout: false,
      onOutput: (kind, data) => kind === 'stdout' && this.take(stream, data),
    });
    void reader
      .catch((error: unknown) => logger.warn({ err: error, session: name }, 'session output reader failed'))
      .finally(() => {
        // The pane ended or the pipe was closed: whatever is left goes out, then everything is let go.
        this.flush(stream);
        clearTimeout(stream.leaseTimer);
        if (this.streams.get(name) === stream) {
          this.streams.delete(name);
        }
        void rm(fifo, { force: true }).finally(ended);
      });
    try {
      // `exec`: the shell tmux runs the command with becomes the writer (one process per watched pane).
      await tmux.run(['pipe-pane', '-O', '-t', `=${name}:`, `exec cat > ${shellQuote(fifo)}`]);
    } catch (error) {
      abort.abort();
      await stream.ended;
      throw error;
    }
    logger.info({ session: name }, 'streaming session output');
    return stream;
  }

  private async stop(stream: Stream, why: string): Promise<void> {
    if (!stream.stopping) {
      stream.stopping = true;
      // No command: tmux closes the pane's pipe; the writer ends, the reader reads to the end and exits.
      await this.options.tmux.run(['pipe-pane', '-t', `=${stream.name}:`], true).catch(() => undefined);
      // Should the reader still wait (the session was already gone), it is stopped.
      const force = setTimeout(() => stream.abort.abort(), 2_000);
      await stream.ended;
      clearTimeout(force);
      this.options.logger.info({ session: stream.name, why }, 'stopped streaming session output');
    }
    await stream.ended;
  }

  private scheduleLeaseCheck(stream: Stream): void {
    clearTimeout(stream.leaseTimer);
    const next = Math.max(...stream.leases.values());
    stream.leaseTimer = setTimeout(
      () => {
        const now = Date.now();
        for (const [watcher, until] of stream.leases) {
          if (until <= now) {
            stream.leases.delete(watcher);
          }
        }
        if (stream.leases.size === 0) {
          void this.stop(stream, 'no watcher renewed');
        } else {
          this.scheduleLeaseCheck(stream);
        }
      },
      Math.max(next - Date.now(), 0) + 10,
    );
    stream.leaseTimer.unref();
  }

  /** Holds a piece of output for the next flush (the buffer drops the oldest when too much is held). */
  private take(stream: Stream, data: string): void {
    stream.output.take(data);
    stream.flushTimer ??= setTimeout(() => this.flush(stream), FLUSH_MS);
  }

  private flush(stream: Stream): void {
    clearTimeout(stream.flushTimer);
    stream.flushTimer = undefined;
    const subject = MachineSubjects.sessionOutput(this.options.machineId, stream.name);
    try {
      for (const { data, dropped } of stream.output.drain()) {
        const chunk: SessionOutputChunk = { v: 1, session: stream.name, seq: stream.seq++, data, dropped };
        this.options.nc.publish(subject, encodeJson(chunk));
      }
    } catch (error) {
      // Disconnected: the output is lost, as output nobody reads is.
      this.options.logger.debug({ err: error, session: stream.name }, 'session output not published');
    }
  }
}

/** A path as one shell word. */
function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
