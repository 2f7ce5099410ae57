import { Type } from 'class-transformer';
import { IsInt, IsString, Max, Min, MinLength } from 'class-validator';

import { HubServiceConfig } from '@waggle/config';

/** Every variable the tracker reads. Validated once at boot; all problems listed at once. */
export class TrackerConfig extends HubServiceConfig {
  /** How often items with a task still running are checked against the task router (task events wake them sooner). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  WAGGLE_TRACKER_SYNC_INTERVAL_MS = 15_000;

  /** Attempts a task made from an item gets before it fails for good. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  WAGGLE_TRACKER_MAX_ATTEMPTS = 2;

  /** Days the activity log keeps a change. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3650)
  WAGGLE_TRACKER_ACTIVITY_RETENTION_DAYS = 90;

  /** How often activity past the retention is deleted. */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  WAGGLE_TRACKER_ACTIVITY_PRUNE_INTERVAL_MS = 3_600_000;

  /** The model alias plans ask the LLM gateway for (an alias of llm-failover, or a provider's model). */
  @IsString()
  @MinLength(1)
  WAGGLE_TRACKER_PLAN_MODEL = 'default';

  /** Events an ingest key may send a minute, unless the key says otherwise. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_TRACKER_INGEST_RATE_PER_MINUTE = 60_000;

  /** Events of one error group kept a minute; more are counted but not kept (spike protection). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_TRACKER_ERROR_SPIKE_PER_MINUTE = 1_000;

  /** Latest events kept per error group. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  WAGGLE_TRACKER_ERROR_EVENTS_PER_GROUP = 100;

  /** Days an error event is kept. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3650)
  WAGGLE_TRACKER_ERROR_RETENTION_DAYS = 30;

  /** Port of the tracker's /metrics, /health, /ready (0 disables). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  WAGGLE_TRACKER_METRICS_PORT = 9108;
}
