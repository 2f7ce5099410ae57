import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { NatsConnection } from 'nats';

import type { TaskAssignment, TaskOutcome, TaskResultRequest } from '@waggle/contracts';
import { machineRequest } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

import { LeaseKeeper } from './lease-keeper';
import { LogStream } from './log-stream';
import { MARK_VARIABLE } from './process-marks';
import { ResultReporter } from './result-reporter';
import type { SecretMask } from './secret-mask';
import type { ProgramRunner } from './task-helper';
import { TaskHelperLostError } from './task-helper';
import type { TaskWork, WorkContext, WorkResult } from './task-work';

const RESULT_FILE_LIMIT = 1024 * 1024;

/** Marker in a failed attempt's kept working directory: when it may be removed (epoch ms). */
export const KEEP_UNTIL_FILE = '.waggle-keep-until';

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
  /** Every secret of the attempt (its vault secrets by name, the agent's own), masked in its logs and result. */
  mask: SecretMask;
  /** The vault secrets the task named, opened on this machine: in its environment only. */
  secretEnv?: Record<string, string>;
  /** The agent's mark (process-marks.ts): this attempt's processes carry `<it>/<taskId>/<attempt>[/<n>]`. */
  processMark: string;
  /** Starts the attempt's programs and sweeps what they leave (the task helper). */
  programs: ProgramRunner;
  logger: Logger;
}

/**
 * Stops after which the attempt reports nothing: the hub has moved on, or will once the lease
 * expires, or (handed_back) the stopping agent hands the attempt back itself.
 */
type Abandoned = 'superseded' | 'lease_lost' | 'helper_lost' | 'handed_back';
type StopReason = 'cancelled' | 'timed_out' | Abandoned;
const isAbandoned = (reason: StopReason | undefined): reason is Abandoned =>
  reason === 'superseded' || reason === 'lease_lost' || reason === 'helper_lost' || reason === 'handed_back';

/**
 * One attempt of a task on this machine. It composes the parts: the work runs its programs
 * as process groups (process-group.ts), output goes to the logs (log-stream.ts), the lease
 * is renewed (lease-keeper.ts), and the result is reported once (result-reporter.ts). A
 * cancel, the timeout or a lost lease stops it: every running group, and every process
 * carrying the attempt's mark, gets SIGINT, SIGTERM, then SIGKILL.
 */
export class TaskRunner {
  private stopReason?: StopReason;
  private readonly stopping = new AbortController();
  private readonly logs: LogStream;
  private readonly lease: LeaseKeeper;
  private readonly mark: string;
  private programs = 0;
  /** The work took the environment to start processes of its own (git through simple-git). */
  private startedOwnProcesses = false;

  constructor(private readonly options: RunnerOptions) {
    const { nc, machineId, assignment, logger } = options;
    const attempt = { nc, machineId, taskId: assignment.taskId, attempt: assignment.attempt, logger };
    this.mark = `${options.processMark}/${assignment.taskId}/${assignment.attempt}`;
    this.logs = new LogStream({
      ...attempt,
      redact: (text) => this.redact(text),
      holdBack: options.mask.holdBack,
    });
    this.lease = new LeaseKeeper({
      ...attempt,
      leaseSeconds: options.leaseSeconds,
      onStop: (verdict) => this.stop(verdict),
    });
  }

  /** The attempt's secrets, masked wherever its output goes. */
  get mask(): SecretMask {
    return this.options.mask;
  }

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
    const timeout = setTimeout(() => this.stop('timed_out'), assignment.timeoutSeconds * 1000);
    this.lease.start();
    try {
      done = await this.options.work(this.context(workDir, resultFile));
    } catch (error) {
      done = { exitCode: null, error: (error as Error).message };
    } finally {
      clearTimeout(timeout);
      this.lease.stop();
    }
    await this.endLeftovers();
    await this.logs.end();
    if (isAbandoned(this.stopReason)) {
      logger.warn(
        { taskId: assignment.taskId, attempt: assignment.attempt, reason: this.stopReason },
        'attempt abandoned; not reporting',
      );
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
      outputTail: this.logs.tail,
      structured: structured && this.options.mask.applyJson(structured),
      error:
        done.error !== undefined
          ? this.redact(done.error).slice(0, 2000)
          : outcome === 'timed_out'
            ? `timed out after ${assignment.timeoutSeconds} s`
            : undefined,
    };
    await new ResultReporter(this.options).report(result);
    if (outcome === 'failed') {
      await this.reportCrash(result);
    }
    if (fresh) {
      await this.cleanUp(workDir, outcome !== 'succeeded');
    }
  }

  /**
   * A failed attempt whose output ends in a stack trace (the agent CLI or the program
   * crashed) goes to the hub's errors as well, so the same crash on many machines is one
   * group. Best effort: the result is what counts.
   */
  private async reportCrash(result: TaskResultRequest): Promise<void> {
    const text = `${result.outputTail}\n${result.error ?? ''}`;
    const crash = crashOf(text);
    if (!crash) {
      return;
    }
    const { nc, machineId, assignment, logger } = this.options;
    try {
      await machineRequest(
        nc,
        'errors',
        machineId,
        {
          v: 1,
          report: {
            ...crash,
            source: `task ${assignment.kind}`,
            tags: { task: assignment.taskId, task_kind: assignment.kind },
          },
        },
        5_000,
      );
    } catch (error) {
      logger.debug({ err: error, taskId: assignment.taskId }, 'task crash not reported to the hub errors');
    }
  }

  /**
   * Whatever the attempt left running is stopped before the result goes out, so nothing of
   * this attempt runs beside a next one. A program run through `exec` is swept when it ends;
   * what the work started itself (git through simple-git is not a program group), or what a
   * program left when the helper died under it, is swept here by the attempt's mark.
   */
  private async endLeftovers(): Promise<void> {
    if (!this.startedOwnProcesses && this.stopReason !== 'helper_lost') {
      return;
    }
    const { logger, assignment, killGraceMs } = this.options;
    const stopped = await this.options.programs.sweep(this.mark, Math.ceil(killGraceMs / 2));
    if (stopped) {
      logger.info(
        { taskId: assignment.taskId, attempt: assignment.attempt, stopped },
        'stopped processes the task left',
      );
    }
  }

  /** Stops the attempt: its running process groups get SIGINT, then SIGTERM, then SIGKILL, a grace period apart. */
  stop(reason: StopReason): void {
    if (this.stopReason) {
      return;
    }
    this.stopReason = reason;
    this.stopping.abort(reason);
  }

  private context(cwd: string, resultFile: string): WorkContext {
    const { assignment, killGraceMs } = this.options;
    const env: NodeJS.ProcessEnv = {
      ...this.options.env,
      ...this.options.secretEnv,
      WAGGLE_TASK_ID: assignment.taskId,
      WAGGLE_TASK_ATTEMPT: String(assignment.attempt),
      WAGGLE_RESULT_FILE: resultFile,
      [MARK_VARIABLE]: this.mark,
    };
    const signal = this.stopping.signal;
    const exec: WorkContext['exec'] = async (argv, options = {}) => {
      try {
        return await this.options.programs.run(argv, {
          cwd: options.cwd ?? cwd,
          env: options.env ?? env,
          mark: `${this.mark}/${++this.programs}`,
          stdin: options.stdin,
          onOutput: (stream, data) => {
            if (stream === 'stderr' || !options.quiet) {
              this.logs.write(stream, data);
            }
          },
          signal,
          graceMs: killGraceMs,
        });
      } catch (error) {
        if (error instanceof TaskHelperLostError) {
          // Its processes are swept by mark; the hub retries the task once the lease expires.
          this.options.logger.error(
            { taskId: assignment.taskId, attempt: assignment.attempt, err: error },
            'the task helper died under the attempt: abandoning it',
          );
          this.stop('helper_lost');
        }
        throw error;
      }
    };
    const started = () => (this.startedOwnProcesses = true);
    return {
      cwd,
      get env() {
        // Whoever takes the environment may start processes with it: the attempt sweeps its mark at the end.
        started();
        return env;
      },
      exec,
      output: (stream, text) => this.logs.write(stream, text),
      note: (text) => this.logs.write('stdout', `[waggle] ${text}\n`),
      signal,
      stopped: () => this.stopReason !== undefined,
    };
  }

  private async freshWorkDir(): Promise<string> {
    await mkdir(this.options.workDir, { recursive: true, mode: 0o700 });
    return mkdtemp(join(this.options.workDir, `${this.options.assignment.taskId.slice(0, 8)}-`));
  }

  /** Removes the attempt's working directory; a failed one stays for a while, marked with when it may go. */
  private async cleanUp(workDir: string, failed: boolean) {
    const { keepFailedMs, logger, assignment } = this.options;
    if (failed && keepFailedMs > 0) {
      await writeFile(join(workDir, KEEP_UNTIL_FILE), String(Date.now() + keepFailedMs)).catch(() => undefined);
      logger.info(
        { taskId: assignment.taskId, workDir, keepSeconds: Math.round(keepFailedMs / 1000) },
        'failed attempt: working tree kept',
      );
      return;
    }
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }

  private async readResultFile(path: string): Promise<object | undefined> {
    try {
      const text = await readFile(path, 'utf8');
      if (text.length > RESULT_FILE_LIMIT) {
        return { error: 'result file over 1 MiB ignored' };
      }
      const value = JSON.parse(text) as unknown;
      return typeof value === 'object' && value !== null ? value : { value };
    } catch {
      return undefined;
    }
  }

  /** Every secret the attempt holds, replaced wherever it shows up. */
  private redact(text: string): string {
    return this.options.mask.apply(text);
  }
}

const V8_TRACE = /^(?<type>[A-Z][\w.$]*(?:Error|Exception)|Error)(?:\s*\[[^\]]*\])?: (?<message>.*)\n(?<frames>(?:\s+at .+\n?)+)/m;
const PY_TRACE = /Traceback \(most recent call last\):\n(?<frames>(?:\s+.+\n)+?)(?<type>[A-Za-z_][\w.]*): ?(?<message>.*)$/m;

/** The last stack trace in a program's output (V8's or Python's), as an error report; none when there is none. */
export function crashOf(output: string): { type: string; message: string; stack: string } | undefined {
  const v8 = [...output.matchAll(new RegExp(V8_TRACE, 'gm'))].at(-1);
  const py = [...output.matchAll(new RegExp(PY_TRACE, 'gm'))].at(-1);
  const m = (v8?.index ?? -1) >= (py?.index ?? -1) ? v8 : py;
  if (!m?.groups) {
    return undefined;
  }
  return {
    type: m.groups.type!.slice(0, 200),
    message: m.groups.message!.slice(0, 2000),
    stack: m[0].slice(0, 20_000),
  };
}
