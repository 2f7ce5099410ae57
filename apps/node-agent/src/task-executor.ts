import type { Consumer, JsMsg, NatsConnection, Subscription } from 'nats';
import type { KeyPair } from 'nkeys.js';

import type { AgentCliName, Capabilities, HelpAnswer, TaskLeaseReply } from '@waggle/contracts';
import {
  CancelSignal,
  Consumers,
  decode,
  ErrorCode,
  HelpQuestion,
  MachineSubjects,
  Streams,
  TaskAssignment,
  WaggleError,
} from '@waggle/contracts';
import { claimOutcomeOf, ClaimSettlement, decodeJson, machineRequest, serve, settleClaim } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

import { agentCommand } from './agent-clis';
import type * as GithubIssueWork from './github/github-issue-work';
import type { GithubIdentity } from './github/github-issue-work';
import { SecretMask } from './secret-mask';
import type { ProgramRunner } from './task-helper';
import { TaskIntake } from './task-intake';
import { TaskRunner } from './task-runner';
import type { OpenedSecrets } from './task-secrets';
import { machineSealKey, openTaskSecrets } from './task-secrets';
import type { TaskWork } from './task-work';
import { programWork } from './task-work';

export interface ExecutorOptions {
  nc: NatsConnection;
  machineId: string;
  slots: number;
  allowCommand: boolean;
  allowShell: boolean;
  workDir: string;
  killGraceMs: number;
  cliCommands: Record<AgentCliName, string[]>;
  capabilities: () => Promise<Capabilities>;
  /** The environment of every task (the agent's without its secrets, the local socket, `waggle` on PATH). */
  taskEnv: NodeJS.ProcessEnv;
  /** This machine's GitHub identity, for `github-issue` tasks (none: it refuses them). */
  github?: GithubIdentity;
  /** A failed attempt's working tree is kept this long. */
  keepFailedMs: number;
  machineName: string;
  /** The agent's process mark (process-marks.ts): every task process carries it, extended per attempt. */
  processMark: string;
  /** Starts the tasks' programs (the task helper). */
  programs: ProgramRunner;
  /** The agent's state dir: its sealing key for vault secrets is kept there. */
  stateDir: string;
  logger: Logger;
  signal: AbortSignal;
}

/** Durations of recent attempts, for the ETA this machine quotes when a peer asks for help. */
const RECENT_RUNS = 20;
/** How long a pull for assignments waits on the server (it ends sooner once filled). */
const PULL_EXPIRES_MS = 30_000;
const PULL_RETRY_MS = 1_000;
/** Handing an attempt back when the agent stops: each try waits this long for the hub. */
const RELEASE_TIMEOUT_MS = 5_000;
const RELEASE_TRIES = 3;

/**
 * The github-issue work, loaded on its first task: it brings simple-git and Octokit, which a
 * machine without a GitHub identity never needs (the agent stays small on a Pi).
 */
function githubIssueWorkModule(): typeof GithubIssueWork {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./github/github-issue-work') as typeof GithubIssueWork;
}

/** What to run for an assignment, or why this machine will not run it. */
function workFor(
  assignment: Pick<TaskAssignment, 'kind' | 'input'> & Partial<Pick<TaskAssignment, 'taskId' | 'attempt'>>,
  options: ExecutorOptions,
  capabilities: Capabilities,
): TaskWork {
  const { input } = assignment;
  switch (assignment.kind) {
    case 'agent':
      return programWork(agentCommand(input, capabilities, options.cliCommands));
    case 'command':
      if (!options.allowCommand) {
        throw new WaggleError(ErrorCode.Forbidden, 'this machine does not run command tasks (no --allow-command)');
      }
      return programWork([input.program!, ...(input.args ?? [])]);
    case 'shell':
      if (!options.allowShell) {
        throw new WaggleError(ErrorCode.Forbidden, 'this machine does not run shell tasks (no --allow-shell)');
      }
      // The script goes to the shell on stdin, never onto a command line.
      return programWork(['sh', '-s'], input.script);
    case 'github-issue':
      if (!options.github) {
        throw new WaggleError(ErrorCode.Forbidden, 'this machine has no GitHub identity (no --github-token-file)');
      }
      if (!input.github) {
        throw WaggleError.invalid('a github-issue task needs input.github');
      }
      return githubIssueWorkModule().githubIssueWork(
        {
          taskId: assignment.taskId ?? '',
          attempt: assignment.attempt ?? 0,
          machineName: options.machineName,
          github: input.github,
          prompt: input.prompt ?? '',
          agentArgv: agentCommand(input, capabilities, options.cliCommands),
        },
        options.github,
      );
  }
}

/**
 * Takes this machine's task assignments, one per free slot: claims each (the router
 * decides whether this attempt is still current), runs it, and stops it when the hub says
 * cancel. Runs on plain NATS, no HTTP.
 *
 * Assignments come through one pull for the whole machine, sized to its free slots: the
 * consumer is looked up once (again only after a failed pull), and a slot that frees asks
 * for one more message. The server never holds more pulls for this machine than it has
 * free slots, so it hands out no assignment that would wait here unclaimed.
 */
export class TaskExecutor {
  private readonly running = new Map<
    string,
    { runner: TaskRunner; assignment: TaskAssignment; startedAt: number; done: Promise<void> }
  >();
  /** This machine's sealing key, read (or made) on the first task that names secrets. */
  private sealKey?: Promise<KeyPair>;
  private readonly recentDurationsMs: number[] = [];
  private subs: Subscription[] = [];
  private readonly intake: TaskIntake<JsMsg>;
  /** The machine's task consumer, looked up once (again after a failed pull). */
  private consumer?: Consumer;

  constructor(private readonly options: ExecutorOptions) {
    const { nc, machineId, logger } = options;
    this.intake = new TaskIntake({
      slots: options.slots,
      pull: async (count) => {
        this.consumer ??= await nc.jetstream().consumers.get(Streams.tasks.name, Consumers.tasks(machineId));
        return this.consumer.fetch({ max_messages: count, expires: PULL_EXPIRES_MS });
      },
      onPullError: (error) => {
        // The connection dropped, or the consumer is gone (the hub makes it again): look it up anew.
        logger.debug({ err: error }, 'task fetch failed; retrying');
        this.consumer = undefined;
      },
      retryMs: PULL_RETRY_MS,
      handle: (msg) => this.handle(msg),
      onHandleError: (error) => logger.error({ err: error }, 'task assignment not handled'),
      signal: options.signal,
    });
  }

  start(): void {
    const { nc, machineId } = this.options;
    this.subs.push(
      nc.subscribe(MachineSubjects.cancel(machineId), {
        callback: (err, msg) => {
          if (err) {
            return;
          }
          let signal: CancelSignal;
          try {
            signal = decode(CancelSignal, decodeJson(msg.data));
          } catch (error) {
            this.options.logger.warn({ err: error }, 'invalid cancel signal dropped');
            return;
          }
          this.running.get(`${signal.taskId}:${signal.attempt}`)?.runner.stop('cancelled');
        },
      }),
      serve(nc, MachineSubjects.helpQuestion(machineId), HelpQuestion, (question) => this.answerHelp(question), {
        logger: this.options.logger,
      }),
    );
    this.intake.start();
  }

  /**
   * The agent stops: no new work; what runs may finish within `graceMs`; the rest is stopped
   * (its processes signalled as for a cancel) and handed back to the hub, which queues it
   * again at once instead of when its lease runs out. Resolves how many were handed back.
   */
  async drain(graceMs: number): Promise<number> {
    for (const sub of this.subs) {
      sub.unsubscribe();
    }
    this.intake.stop();
    const finished = Promise.all([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    const left = [...this.running.values()];
    for (const { runner } of left) {
      runner.stop('handed_back');
    }
    await Promise.all(
      left.map(async ({ assignment, done }) => {
        await done;
        const { taskId, attempt } = assignment;
        // A busy hub gets a few tries; failing them, the lease runs out and the hub queues it then.
        let reply: { released: boolean } | undefined;
        for (let tries = 1; !reply && tries <= RELEASE_TRIES; tries++) {
          reply = await machineRequest(
            this.options.nc,
            'taskRelease',
            this.options.machineId,
            { v: 1, taskId, attempt },
            RELEASE_TIMEOUT_MS,
          ).catch((error: unknown) => {
            this.options.logger.warn({ err: error, taskId, attempt, tries }, 'attempt not handed back yet');
            return undefined;
          });
        }
        this.options.logger.info({ taskId, attempt, released: reply?.released }, 'attempt handed back');
      }),
    );
    return left.length;
  }

  /** What a running attempt's requests through the local socket are masked with (its secrets). */
  maskOf(taskId: string, attempt: number): SecretMask | undefined {
    return this.running.get(`${taskId}:${attempt}`)?.runner.mask;
  }

  /** Whether this attempt runs here now. */
  isRunning(taskId: string, attempt: number): boolean {
    return this.running.has(`${taskId}:${attempt}`);
  }

  /**
   * A peer needs help: yes at once with a free slot; when every slot is busy, yes with an
   * ETA (when the oldest running task should end, judged by recent runs) if it is within
   * the asker's limit; no if this machine cannot run the work at all.
   */
  async answerHelp(question: HelpQuestion): Promise<HelpAnswer> {
    try {
      workFor(question, this.options, await this.options.capabilities());
    } catch (error) {
      return { accept: false, etaSeconds: 0, reason: (error as Error).message };
    }
    const { slots } = this.options;
    if (this.running.size < slots) {
      return { accept: true, etaSeconds: 0 };
    }
    if (!this.recentDurationsMs.length) {
      return { accept: false, etaSeconds: 0, reason: `all ${slots} slots busy, no estimate yet` };
    }
    const typical = this.recentDurationsMs.reduce((a, b) => a + b, 0) / this.recentDurationsMs.length;
    const oldest = Math.min(...[...this.running.values()].map((r) => r.startedAt));
    const etaSeconds = Math.max(1, Math.ceil((typical - (Date.now() - oldest)) / 1000));
    if (etaSeconds > question.maxEtaSeconds) {
      return { accept: false, etaSeconds, reason: `all ${slots} slots busy for about ${etaSeconds} s` };
    }
    return { accept: true, etaSeconds };
  }

  private async handle(msg: JsMsg): Promise<void> {
    const { nc, machineId, logger } = this.options;
    let assignment: TaskAssignment;
    try {
      assignment = decode(TaskAssignment, decodeJson(msg.data));
    } catch (error) {
      logger.error({ err: error }, 'invalid task assignment dropped');
      settleClaim(msg, ClaimSettlement.Invalid);
      return;
    }
    // The message is only a wake-up: the router's row decides whether this attempt runs here.
    let lease: TaskLeaseReply;
    try {
      lease = await machineRequest(
        nc,
        'taskClaim',
        machineId,
        { v: 1, taskId: assignment.taskId, attempt: assignment.attempt },
        5_000,
      );
    } catch (error) {
      const settled = settleClaim(msg, claimOutcomeOf(error));
      logger.debug(
        { err: error, taskId: assignment.taskId, attempt: assignment.attempt, settled: settled.action },
        'task not claimed',
      );
      return;
    }
    settleClaim(msg, ClaimSettlement.Claimed);
    let work: TaskWork;
    let opened: OpenedSecrets = { env: {}, named: [] };
    try {
      work = workFor(assignment, this.options, await this.options.capabilities());
      if (Object.keys(assignment.secrets ?? {}).length) {
        this.sealKey ??= machineSealKey(this.options.stateDir);
        opened = await openTaskSecrets(nc, machineId, assignment, await this.sealKey);
      }
    } catch (error) {
      await machineRequest(nc, 'taskResult', machineId, {
        v: 1,
        taskId: assignment.taskId,
        attempt: assignment.attempt,
        outcome: 'failed',
        exitCode: null,
        durationMs: 0,
        outputTail: '',
        error: (error as Error).message,
      }).catch(() => undefined);
      return;
    }
    const runner = new TaskRunner({
      nc,
      machineId,
      assignment,
      work,
      workDir: this.options.workDir,
      leaseSeconds: lease.leaseSeconds,
      killGraceMs: this.options.killGraceMs,
      keepFailedMs: this.options.keepFailedMs,
      env: this.options.taskEnv,
      secretEnv: opened.env,
      mask: new SecretMask(opened.named, this.options.github ? [this.options.github.token] : []),
      processMark: this.options.processMark,
      programs: this.options.programs,
      logger,
    });
    const startedAt = Date.now();
    const done = runner.run();
    this.running.set(runner.key, { runner, assignment, startedAt, done: done.catch(() => undefined) });
    logger.info(
      { taskId: assignment.taskId, attempt: assignment.attempt, kind: assignment.kind, title: assignment.title },
      'task started',
    );
    try {
      await done;
    } finally {
      this.running.delete(runner.key);
      this.recentDurationsMs.push(Date.now() - startedAt);
      if (this.recentDurationsMs.length > RECENT_RUNS) {
        this.recentDurationsMs.shift();
      }
    }
  }
}
