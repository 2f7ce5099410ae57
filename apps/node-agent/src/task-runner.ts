import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { NatsConnection } from 'nats';

import type { LogChunk, TaskAssignment, TaskLeaseReply, TaskOutcome, TaskResultRequest } from '@waggle/contracts';
import { ErrorCode, MachineSubjects, WaggleError } from '@waggle/contracts';
import { encodeJson, request } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

const TAIL_BYTES = 8 * 1024;
const LOG_FLUSH_MS = 100;
const LOG_CHUNK_BYTES = 16 * 1024;
const RESULT_FILE_LIMIT = 1024 * 1024;
const CAPTURE_BYTES = 1024 * 1024;

/** Marker in a failed attempt's kept working directory: when it may be removed (epoch ms). */
export const KEEP_UNTIL_FILE = '.waggle-keep-until';

/** What a task's work may do: run programs (output to the task's logs) and note progress. */
export interface WorkContext {
  /** The attempt's working directory. */
  cwd: string;
  /** The task's environment (the agent's, without its secrets, plus WAGGLE_TASK_*). */
  env: NodeJS.ProcessEnv;
  /**
   * Runs one program (argument array) in its own process group; its output goes to the
   * task's logs, and stdout is also returned (up to 1 MiB). Refuses once the task is stopped.
   */
  exec(
    argv: string[],
    options?: { cwd?: string; stdin?: string; env?: NodeJS.ProcessEnv; quiet?: boolean },
  ): Promise<{ exitCode: number | null; stdout: string }>;
  /** A line of the agent's own in the task's log (progress of a long step). */
  note(text: string): void;
  stopped(): boolean;
}

export interface WorkResult {
  exitCode: number | null;
  /** The result's structured part (otherwise what the process wrote to $WAGGLE_RESULT_FILE). */
  structured?: object;
  error?: string;
}

/** The work of one attempt. */
export type TaskWork = (ctx: WorkContext) => Promise<WorkResult>;

/** Work that runs one program: `agent`, `command` and `shell` tasks. */
export function programWork(argv: string[], stdin?: string): TaskWork {
  return async (ctx) => ({ exitCode: (await ctx.exec(argv, { stdin })).exitCode });
}

export interface RunnerOptions {
  nc: NatsConnection;
  machineId: string;
  assignment: TaskAssignment;
  work: TaskWork;
  workDir: string;
  leaseSeconds: number;
  killGraceMs: number;
  /** A failed attempt's fresh working directory is kept this long (0: removed like the others). */
  keepFailedMs: number;
  /** The task's environment (the agent's own without its secrets, `waggle` on PATH); WAGGLE_TASK_* are added here. */
  env: NodeJS.ProcessEnv;
  /** Values that must never reach the task's logs or result (replaced by [redacted]). */
  secrets: string[];
  logger: Logger;
}

type StopReason = 'cancelled' | 'timed_out' | 'superseded' | 'lease_lost';

/**
 * One attempt of a task on this machine: runs the argument array in its own process group,
 * streams its output, renews the lease, stops it on cancel, timeout or lost lease
 * (interrupt, terminate, then kill the group), and reports the result once.
 */
export class TaskRunner {
  private child?: ChildProcess;
  private stopReason?: StopReason;
  private tail = '';
  private pending: { stream: 'stdout' | 'stderr'; data: string }[] = [];
  private pendingBytes = 0;
  private seq = 0;
  private flushing: Promise<void> = Promise.resolve();
  private flushTimer?: NodeJS.Timeout;
  private readonly timers: NodeJS.Timeout[] = [];
  private lastRenewal = Date.now();

  constructor(private readonly options: RunnerOptions) {}

  get key(): string {
    return `${this.options.assignment.taskId}:${this.options.assignment.attempt}`;
  }

  /** Runs to the end; resolves once the result was reported (or the attempt was given up). */
  async run(): Promise<void> {
    const { assignment, logger } = this.options;
    const started = Date.now();
    const fresh = !assignment.input.cwd;
    const workDir = assignment.input.cwd ?? (await this.freshWorkDir());
    const resultFile = join(workDir, `.waggle-result-${assignment.taskId}-${assignment.attempt}.json`);
    let done: WorkResult = { exitCode: null };
    this.startWatchers();
    try {
      done = await this.options.work(this.context(workDir, resultFile));
    } catch (error) {
      done = { exitCode: null, error: (error as Error).message };
    } finally {
      for (const t of this.timers) clearInterval(t);
    }
    await this.flushLogs();
    if (this.stopReason === 'superseded' || this.stopReason === 'lease_lost') {
      logger.warn({ taskId: assignment.taskId, attempt: assignment.attempt, reason: this.stopReason }, 'attempt abandoned; not reporting');
      return;
    }
    const outcome: TaskOutcome = this.stopReason ?? (done.exitCode === 0 && !done.error ? 'succeeded' : 'failed');
    const structured = done.structured ?? (await this.readResultFile(resultFile));
    const result: TaskResultRequest = {
      v: 1,
      taskId: assignment.taskId,
      attempt: assignment.attempt,
      outcome,
      exitCode: done.exitCode,
      durationMs: Date.now() - started,
      outputTail: this.tail,
      structured: structured && (JSON.parse(this.redact(JSON.stringify(structured))) as object),
      error:
        done.error !== undefined
          ? this.redact(done.error).slice(0, 2000)
          : outcome === 'timed_out'
            ? `timed out after ${assignment.timeoutSeconds} s`
            : undefined,
    };
    await this.report(result);
    if (fresh) await this.cleanUp(workDir, outcome !== 'succeeded');
  }

  /** Removes the attempt's working directory; a failed one stays for a while, marked with when it may go. */
  private async cleanUp(workDir: string, failed: boolean) {
    const { keepFailedMs, logger, assignment } = this.options;
    if (failed && keepFailedMs > 0) {
      await writeFile(join(workDir, KEEP_UNTIL_FILE), String(Date.now() + keepFailedMs)).catch(() => undefined);
      logger.info({ taskId: assignment.taskId, workDir, keepSeconds: Math.round(keepFailedMs / 1000) }, 'failed attempt: working tree kept');
      return;
    }
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }

  private context(cwd: string, resultFile: string): WorkContext {
    const { assignment } = this.options;
    const env: NodeJS.ProcessEnv = {
      ...this.options.env,
      WAGGLE_TASK_ID: assignment.taskId,
      WAGGLE_TASK_ATTEMPT: String(assignment.attempt),
      WAGGLE_RESULT_FILE: resultFile,
    };
    return {
      cwd,
      env,
      exec: (argv, options = {}) => this.spawnAndWait(argv, { cwd: options.cwd ?? cwd, stdin: options.stdin, env: options.env ?? env, quiet: !!options.quiet }),
      note: (text) => this.output('stdout', `[waggle] ${text}\n`),
      stopped: () => this.stopReason !== undefined,
    };
  }

  /** Stops the process group: SIGINT, then SIGTERM, then SIGKILL, a grace period apart. */
  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    if (!this.child?.pid || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const group = -this.child.pid;
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(group, s);
      } catch {
        // already gone
      }
    };
    signal('SIGINT');
    const grace = this.options.killGraceMs;
    this.timers.push(setTimeout(() => signal('SIGTERM'), grace / 2));
    this.timers.push(setTimeout(() => signal('SIGKILL'), grace));
  }

  private async freshWorkDir(): Promise<string> {
    await mkdir(this.options.workDir, { recursive: true, mode: 0o700 });
    return mkdtemp(join(this.options.workDir, `${this.options.assignment.taskId.slice(0, 8)}-`));
  }

  private spawnAndWait(
    argv: string[],
    options: { cwd: string; stdin?: string; env: NodeJS.ProcessEnv; quiet: boolean },
  ): Promise<{ exitCode: number | null; stdout: string }> {
    if (this.stopReason) return Promise.resolve({ exitCode: null, stdout: '' });
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), {
        cwd: options.cwd,
        detached: true, // its own process group, so stopping it stops its children too
        stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        env: options.env,
      });
      this.child = child;
      let stdout = '';
      child.once('error', (error) => reject(new Error(`cannot start ${argv[0]}: ${error.message}`)));
      if (options.stdin !== undefined) child.stdin!.end(options.stdin);
      child.stdout!.setEncoding('utf8').on('data', (data: string) => {
        if (stdout.length < CAPTURE_BYTES) stdout += data;
        if (!options.quiet) this.output('stdout', data);
      });
      child.stderr!.setEncoding('utf8').on('data', (data: string) => this.output('stderr', data));
      child.once('close', (code) => resolve({ exitCode: code, stdout }));
    });
  }

  private startWatchers() {
    const { assignment, leaseSeconds } = this.options;
    this.timers.push(setTimeout(() => this.stop('timed_out'), assignment.timeoutSeconds * 1000));
    this.timers.push(setInterval(() => void this.renew(), (leaseSeconds * 1000) / 3));
  }

  /** Renews the lease; a refusal means this attempt was superseded; a whole lease without renewal means we are cut off. */
  private async renew() {
    const { nc, machineId, assignment, leaseSeconds } = this.options;
    try {
      const reply = await request<TaskLeaseReply>(
        nc,
        MachineSubjects.taskRenew(machineId),
        { v: 1, taskId: assignment.taskId, attempt: assignment.attempt },
        2_000,
      );
      this.lastRenewal = Date.now();
      if (reply.cancel) this.stop('cancelled');
    } catch (error) {
      if (error instanceof WaggleError && error.code === ErrorCode.Conflict) {
        this.stop('superseded');
        return;
      }
      if (Date.now() - this.lastRenewal > leaseSeconds * 1000) {
        this.options.logger.error({ taskId: assignment.taskId }, 'could not renew the lease for a whole lease: stopping the task');
        this.stop('lease_lost');
      }
    }
  }

  /** Every secret the agent holds, replaced wherever it shows up. */
  private redact(text: string): string {
    let out = text;
    for (const secret of this.options.secrets) if (secret) out = out.replaceAll(secret, '[redacted]');
    return out;
  }

  private output(stream: 'stdout' | 'stderr', raw: string) {
    const data = this.redact(raw);
    this.tail = (this.tail + data).slice(-TAIL_BYTES);
    this.pending.push({ stream, data });
    this.pendingBytes += data.length;
    if (this.pendingBytes >= LOG_CHUNK_BYTES) void this.flushLogs();
    else this.flushTimer ??= setTimeout(() => void this.flushLogs(), LOG_FLUSH_MS);
  }

  /** Publishes buffered output as chunks (merged per stream run), in order. */
  private flushLogs(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.flushing = this.flushing.then(async () => {
      const { nc, machineId, assignment } = this.options;
      const merged: { stream: 'stdout' | 'stderr'; data: string }[] = [];
      for (const part of batch) {
        const last = merged.at(-1);
        if (last && last.stream === part.stream && last.data.length + part.data.length <= LOG_CHUNK_BYTES) last.data += part.data;
        else merged.push({ ...part });
      }
      const js = nc.jetstream();
      for (const part of merged) {
        const chunk: LogChunk = {
          v: 1,
          taskId: assignment.taskId,
          attempt: assignment.attempt,
          seq: this.seq++,
          stream: part.stream,
          data: part.data,
          at: new Date().toISOString(),
        };
        await js.publish(MachineSubjects.taskLogs(machineId, assignment.taskId), encodeJson(chunk)).catch((error: unknown) => {
          this.options.logger.debug({ err: error }, 'log chunk not published');
        });
      }
    });
    return this.flushing;
  }

  private async readResultFile(path: string): Promise<object | undefined> {
    try {
      const text = await readFile(path, 'utf8');
      if (text.length > RESULT_FILE_LIMIT) return { error: 'result file over 1 MiB ignored' };
      const value = JSON.parse(text) as unknown;
      return typeof value === 'object' && value !== null ? value : { value };
    } catch {
      return undefined;
    }
  }

  /** Reports until the router answers; a refusal (superseded) ends it — the router already moved on. */
  private async report(result: TaskResultRequest): Promise<void> {
    const { nc, machineId, logger, leaseSeconds } = this.options;
    const deadline = Date.now() + leaseSeconds * 1000 * 4;
    for (let delay = 200; Date.now() < deadline; delay = Math.min(delay * 2, 5_000)) {
      try {
        await request(nc, MachineSubjects.taskResult(machineId), result, 5_000);
        logger.info({ taskId: result.taskId, attempt: result.attempt, outcome: result.outcome, exitCode: result.exitCode }, 'task finished');
        return;
      } catch (error) {
        if (error instanceof WaggleError && !error.retryable) {
          logger.warn({ taskId: result.taskId, attempt: result.attempt, reason: error.message }, 'result refused');
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    logger.error({ taskId: result.taskId }, 'could not report the result; the hub will retry the task');
  }
}
