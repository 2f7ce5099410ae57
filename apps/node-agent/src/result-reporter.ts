import type { NatsConnection } from 'nats';

import type { TaskResultRequest } from '@waggle/contracts';
import { WaggleError } from '@waggle/contracts';
import { machineRequest } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

export interface ResultReporterOptions {
  nc: NatsConnection;
  machineId: string;
  leaseSeconds: number;
  logger: Logger;
}

/** Sends an attempt's result to the router, once it is accepted or refused. */
export class ResultReporter {
  constructor(private readonly options: ResultReporterOptions) {}

  /**
   * Retries with backoff for four leases; a refusal (superseded) ends it, since the router
   * already moved on. Giving up is safe: the lease expires and the hub retries the task.
   */
  async report(result: TaskResultRequest): Promise<void> {
    const { nc, machineId, logger, leaseSeconds } = this.options;
    const deadline = Date.now() + leaseSeconds * 1000 * 4;
    for (let delay = 200; Date.now() < deadline; delay = Math.min(delay * 2, 5_000)) {
      try {
        await machineRequest(nc, 'taskResult', machineId, result, 5_000);
        logger.info(
          { taskId: result.taskId, attempt: result.attempt, outcome: result.outcome, exitCode: result.exitCode },
          'task finished',
        );
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
