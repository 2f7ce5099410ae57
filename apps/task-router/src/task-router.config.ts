import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/** Every variable the task-router reads. Validated once at boot; all problems listed at once. */
export class TaskRouterConfig {
  @Matches(/^postgres(ql)?:\/\//, { message: 'WAGGLE_DATABASE_URL must be a postgres:// URL' })
  WAGGLE_DATABASE_URL!: string;

  @Matches(/^(nats|tls):\/\//, { message: 'WAGGLE_NATS_URL must be a nats:// URL' })
  WAGGLE_NATS_URL!: string;

  @IsOptional()
  @IsString()
  WAGGLE_NATS_CREDS?: string;

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
  @Min(1)
  @Max(5)
  WAGGLE_JETSTREAM_REPLICAS = 1;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  WAGGLE_TASK_ROUTER_METRICS_PORT = 9102;

  @IsString()
  WAGGLE_METRICS_HOST = '127.0.0.1';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  WAGGLE_LOG_LEVEL = 'info';
}
