import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/** Variables every hub service reads (gateway, registry, task-router, llm-failover, github-bot); each app's config extends it. */
export class HubServiceConfig {
  /** Postgres connection URL; each service keeps its own schema in it. */
  @Matches(/^postgres(ql)?:\/\//, { message: 'WAGGLE_DATABASE_URL must be a postgres:// URL' })
  WAGGLE_DATABASE_URL!: string;

  /** NATS server URL(s), comma-separated. */
  @Matches(/^(nats|tls):\/\//, { message: 'WAGGLE_NATS_URL must be a nats:// URL' })
  WAGGLE_NATS_URL!: string;

  /** Creds file content of the hub's NATS user. Unset: the NATS server has no auth (development only). */
  @IsOptional()
  @IsString()
  WAGGLE_NATS_CREDS?: string;

  /** JetStream replicas of the streams (3 on a NATS cluster). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5)
  WAGGLE_JETSTREAM_REPLICAS = 1;

  /** Interface of the service's /metrics, /health, /ready. */
  @IsString()
  WAGGLE_METRICS_HOST = '127.0.0.1';

  /** How long a relayed outbox row is kept (the streams deduplicate within minutes). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_OUTBOX_RETENTION_SECONDS = 86_400;

  /** How often relayed outbox rows older than the retention are deleted. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  WAGGLE_OUTBOX_PRUNE_INTERVAL_MS = 3_600_000;

  /**
   * How long an Idempotency-Key answers with what its first request made; after that the
   * key is free again (a reuse creates anew) and the prune clears it from the rows.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_IDEMPOTENCY_TTL_SECONDS = 86_400;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  WAGGLE_LOG_LEVEL = 'info';
}
