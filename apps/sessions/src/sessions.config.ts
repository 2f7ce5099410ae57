import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

import { HubServiceConfig } from '@waggle/config';

/** Every variable the sessions service reads. Validated once at boot; all problems listed at once. */
export class SessionsConfig extends HubServiceConfig {
  /** Port of the service's /metrics, /health, /ready (0 disables). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  WAGGLE_SESSIONS_METRICS_PORT = 9107;

  /** How long the hub waits for a machine's agent to answer a session request, in ms. */
  @Type(() => Number)
  @IsInt()
  @Min(500)
  @Max(120_000)
  WAGGLE_SESSIONS_MACHINE_TIMEOUT_MS = 10_000;

  /** How often the assigner looks for timed-out assignments (it is woken by creates and reports too), in ms. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  WAGGLE_ASSIGNER_INTERVAL_MS = 5_000;
}
