import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

import { HubServiceConfig } from '@waggle/config';

/** Every variable the task-router reads. Validated once at boot; all problems listed at once. */
export class TaskRouterConfig extends HubServiceConfig {
  /** Lease length in seconds; agents renew every third of it and kill their task after a whole lease without renewal. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  WAGGLE_TASK_LEASE_SECONDS = 15;

  /** How often queued tasks are placed and leases checked, in ms. */
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(60_000)
  WAGGLE_SCHEDULER_INTERVAL_MS = 1000;

  /** Log bytes kept per task (oldest chunks are dropped beyond it). */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  WAGGLE_TASK_LOG_LIMIT_BYTES = 1024 * 1024;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  WAGGLE_TASK_ROUTER_METRICS_PORT = 9102;
}
