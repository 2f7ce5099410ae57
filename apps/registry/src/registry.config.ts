import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';

import { HubServiceConfig } from '@waggle/config';

/** Every variable the registry reads. Validated once at boot; all problems listed at once. */
export class RegistryConfig extends HubServiceConfig {
  /** URL machines are told to connect to (defaults to WAGGLE_NATS_URL). */
  @IsOptional()
  @Matches(/^(nats|tls):\/\//)
  WAGGLE_NATS_PUBLIC_URL?: string;

  /** Seed of the WAGGLE account, to sign machine users. Required with WAGGLE_NATS_CREDS. */
  @ValidateIf((c: RegistryConfig) => !!c.WAGGLE_NATS_CREDS)
  @Matches(/^SA[A-Z2-7]+$/, { message: 'WAGGLE_NATS_ACCOUNT_SEED must be an account seed (SA…)' })
  WAGGLE_NATS_ACCOUNT_SEED?: string;

  /** Seed of the operator, to re-sign the account with revocations. Required with WAGGLE_NATS_CREDS. */
  @ValidateIf((c: RegistryConfig) => !!c.WAGGLE_NATS_CREDS)
  @Matches(/^SO[A-Z2-7]+$/, { message: 'WAGGLE_NATS_OPERATOR_SEED must be an operator seed (SO…)' })
  WAGGLE_NATS_OPERATOR_SEED?: string;

  /** Creds of a system-account user, to push account updates. Required with WAGGLE_NATS_CREDS. */
  @ValidateIf((c: RegistryConfig) => !!c.WAGGLE_NATS_CREDS)
  @IsString()
  WAGGLE_NATS_SYSTEM_CREDS?: string;

  /** Heartbeat interval agents are told to keep, in ms. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  WAGGLE_HEARTBEAT_INTERVAL_MS = 5_000;

  /** Missed heartbeats after which a machine is offline. */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(100)
  WAGGLE_OFFLINE_AFTER_MISSED = 3;

  /** Port of the registry's /metrics, /health, /ready (0 disables). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  WAGGLE_REGISTRY_METRICS_PORT = 9101;
}
