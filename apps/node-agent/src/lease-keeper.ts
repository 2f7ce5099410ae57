import type { NatsConnection } from 'nats';

import { ErrorCode, WaggleError } from '@waggle/contracts';
import { machineRequest } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

/** Why the lease keeper wants the attempt stopped. */
export type LeaseVerdict = 'cancelled' | 'superseded' | 'lease_lost';

export interface LeaseKeeperOptions {
  nc: NatsConnection;
  machineId: string;
  taskId: string;
  attempt: number;
  leaseSeconds: number;
  /** Called when the attempt must stop: the hub cancelled it, moved on, or could not be reached for a whole lease. */
  onStop: (verdict: LeaseVerdict) => void;
  logger: Logger;
}

/**
 * Renews an attempt's lease every third of a lease, fenced by (taskId, attempt). A refusal
 * means the attempt was superseded; a whole lease without a renewal means this machine is
 * cut off, and the hub will give the task to another: the attempt kills itself.
 */
export class LeaseKeeper {
  private timer?: NodeJS.Timeout;
  private lastRenewal = Date.now();

  constructor(private readonly options: LeaseKeeperOptions) {}

  start(): void {
    this.lastRenewal = Date.now();
    this.timer = setInterval(() => void this.renew(), (this.options.leaseSeconds * 1000) / 3);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    const { nc, machineId, taskId, attempt, leaseSeconds, onStop, logger } = this.options;
    try {
      const reply = await machineRequest(nc, 'taskRenew', machineId, { v: 1, taskId, attempt }, 2_000);
      this.lastRenewal = Date.now();
      if (reply.cancel) {
        onStop('cancelled');
      }
    } catch (error) {
      if (error instanceof WaggleError && error.code === ErrorCode.Conflict) {
        onStop('superseded');
        return;
      }
      if (Date.now() - this.lastRenewal > leaseSeconds * 1000) {
        logger.error({ taskId }, 'could not renew the lease for a whole lease: stopping the task');
        onStop('lease_lost');
      }
    }
  }
}
