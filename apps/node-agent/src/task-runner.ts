import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
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

export interface RunnerOptions {
  nc: NatsConnection;
  machineId: string;
  assignment: TaskAssignment;
  argv: string[];
  /** Text for the process's stdin (shell scripts), or none. */
  stdin?: string;
  workDir: string;
  leaseSeconds: number;
  killGraceMs: number;
  /** Added to the agent's own environment for the process. */
  env: NodeJS.ProcessEnv;
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
    const workDir = assignment.input.cwd ?? (await this.freshWorkDir());
    const resultFile = join(workDir, `.waggle-result-${assignment.taskId}-${assignment.attempt}.json`);
    let exitCode: number | null = null;
    let spawnError: string | undefined;
    try {
      exitCode = await this.spawnAndWait(workDir, resultFile);
    } catch (error) {
      spawnError = (error as Error).message;
    } finally {
      for (const t of this.timers) clearInterval(t);
    }
    await this.flushLogs();
    if (this.stopReason === 'superseded' || this.stopReason === 'lease_lost') {
      logger.warn({ taskId: assignment.taskId, attempt: assignment.attempt, reason: this.stopReason }, 'attempt abandoned; not reporting');
      return;
    }
    const outcome: TaskOutcome = this.stopReason ?? (exitCode === 0 && !spawnError ? 'succeeded' : 'failed');
    const structured = await this.readResultFile(resultFile);
    const result: TaskResultRequest = {
      v: 1,
      taskId: assignment.taskId,
      attempt: assignment.attempt,
      outcome,
      exitCode,
      durationMs: Date.now() - started,
      outputTail: this.tail,
      structured,
      error: spawnError ?? (outcome === 'timed_out' ? `timed out after ${assignment.timeoutSeconds} s` : undefined),
    };
    await this.report(result);
    if (!assignment.input.cwd) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Stops the process group: SIGINT, then SIGTERM, then SIGKILL, a grace period apart. */
  stop(reason: StopReason): void {
    if (this.stopReason || !this.child?.pid) return;
    this.stopReason = reason;
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

  private spawnAndWait(cwd: string, resultFile: string): Promise<number | null> {
    const { argv, assignment } = this.options;
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), {
        cwd,
        detached: true, // its own process group, so stopping it stops its children too
        stdio: [this.options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          ...this.options.env,
          WAGGLE_TASK_ID: assignment.taskId,
          WAGGLE_TASK_ATTEMPT: String(assignment.attempt),
          WAGGLE_RESULT_FILE: resultFile,
        },
      });
      this.child = child;
      child.once('error', (error) => reject(new Error(`cannot start ${argv[0]}: ${error.message}`)));
      if (this.options.stdin !== undefined) child.stdin!.end(this.options.stdin);
      child.stdout!.setEncoding('utf8').on('data', (data: string) => this.output('stdout', data));
      child.stderr!.setEncoding('utf8').on('data', (data: string) => this.output('stderr', data));
      child.once('spawn', () => this.startWatchers());
      child.once('close', (code) => resolve(code));
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

  private output(stream: 'stdout' | 'stderr', data: string) {
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
