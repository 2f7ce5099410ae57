import type { JsMsg, NatsConnection, Subscription } from 'nats';

import type { AgentCliName, CancelSignal, Capabilities, TaskLeaseReply } from '@waggle/contracts';
import { Consumers, decode, ErrorCode, MachineSubjects, Streams, TaskAssignment, WaggleError } from '@waggle/contracts';
import { backoffMs, decodeJson, request } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

import { agentCommand } from './agent-clis';
import { TaskRunner } from './task-runner';

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
  logger: Logger;
  signal: AbortSignal;
}

/** What to run for an assignment, or why this machine will not run it. */
function commandFor(assignment: TaskAssignment, options: ExecutorOptions, capabilities: Capabilities): { argv: string[]; stdin?: string } {
  const { input } = assignment;
  switch (assignment.kind) {
    case 'agent':
      return { argv: agentCommand(input, capabilities, options.cliCommands) };
    case 'command':
      if (!options.allowCommand) throw new WaggleError(ErrorCode.Forbidden, 'this machine does not run command tasks (no --allow-command)');
      return { argv: [input.program!, ...(input.args ?? [])] };
    case 'shell':
      if (!options.allowShell) throw new WaggleError(ErrorCode.Forbidden, 'this machine does not run shell tasks (no --allow-shell)');
      // The script goes to the shell on stdin, never onto a command line.
      return { argv: ['sh', '-s'], stdin: input.script! };
  }
}

/**
 * Takes this machine's task assignments, one per free slot: claims each (the router
 * decides whether this attempt is still current), runs it, and stops it when the hub says
 * cancel. Runs on plain NATS, no HTTP.
 */
export class TaskExecutor {
  private readonly running = new Map<string, TaskRunner>();
  private cancelSub?: Subscription;

  constructor(private readonly options: ExecutorOptions) {}

  start(): void {
    const { nc, machineId } = this.options;
    this.cancelSub = nc.subscribe(MachineSubjects.cancel(machineId), {
      callback: (err, msg) => {
        if (err) return;
        const signal = decodeJson(msg.data) as CancelSignal | undefined;
        if (signal?.taskId) this.running.get(`${signal.taskId}:${signal.attempt}`)?.stop('cancelled');
      },
    });
    for (let slot = 0; slot < this.options.slots; slot++) void this.slotLoop(slot);
  }

  stop(): void {
    this.cancelSub?.unsubscribe();
    for (const runner of this.running.values()) runner.stop('cancelled');
  }

  private async slotLoop(slot: number): Promise<void> {
    const { nc, machineId, logger, signal } = this.options;
    while (!signal.aborted) {
      let msg: JsMsg | undefined;
      try {
        const consumer = await nc.jetstream().consumers.get(Streams.tasks.name, Consumers.tasks(machineId));
        const batch = await consumer.fetch({ max_messages: 1, expires: 10_000 });
        for await (const m of batch) msg = m;
      } catch (error) {
        logger.debug({ err: error, slot }, 'task fetch failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (msg) await this.handle(msg);
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const { nc, machineId, logger } = this.options;
    let assignment: TaskAssignment;
    try {
      assignment = decode(TaskAssignment, decodeJson(msg.data));
    } catch (error) {
      logger.error({ err: error }, 'invalid task assignment dropped');
      msg.term();
      return;
    }
    let lease: TaskLeaseReply;
    try {
      lease = await request<TaskLeaseReply>(nc, MachineSubjects.taskClaim(machineId), { v: 1, taskId: assignment.taskId, attempt: assignment.attempt }, 5_000);
    } catch (error) {
      if (error instanceof WaggleError && !error.retryable) {
        // Superseded or cancelled: the router has moved on; the message was only a wake-up.
        msg.ack();
        return;
      }
      msg.nak(backoffMs(msg.info.redeliveryCount));
      return;
    }
    msg.ack();
    let command: { argv: string[]; stdin?: string };
    try {
      command = commandFor(assignment, this.options, await this.options.capabilities());
    } catch (error) {
      await request(nc, MachineSubjects.taskResult(machineId), {
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
      argv: command.argv,
      stdin: command.stdin,
      workDir: this.options.workDir,
      leaseSeconds: lease.leaseSeconds,
      killGraceMs: this.options.killGraceMs,
      logger,
    });
    this.running.set(runner.key, runner);
    logger.info({ taskId: assignment.taskId, attempt: assignment.attempt, kind: assignment.kind, title: assignment.title }, 'task started');
    try {
      await runner.run();
    } finally {
      this.running.delete(runner.key);
    }
  }
}
