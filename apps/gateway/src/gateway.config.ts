import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

import { EnvBoolean, EnvList, HubServiceConfig } from '@waggle/config';

/** Every variable the gateway reads. Validated once at boot; all problems listed at once. */
export class GatewayConfig extends HubServiceConfig {
  /**
   * Hub services /ready waits for (comma-separated, e.g. `registry,task-router`): each must
   * answer NATS service discovery, wherever it runs. `waggle up` and the deploy files name
   * every service they start; none by default.
   */
  @IsOptional()
  @EnvList()
  @Matches(/^[a-z][a-z-]{1,40}$/, { each: true })
  WAGGLE_GATEWAY_REQUIRED_SERVICES: string[] = [];

  /**
   * Failed authentications (bad API tokens or machine credentials; bad join tokens, counted
   * apart) per minute, per address and per presented credential, before the answer is 429.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_AUTH_FAILURES_PER_MINUTE = 30;

  /** Requests per minute one credential (API token or machine) may make, on any gateway replica; 0 turns the limit off. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  WAGGLE_RATE_LIMIT_PER_MINUTE = 6_000;

  /** Join attempts per minute, per address and per join token, before the answer is 429. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_JOINS_PER_MINUTE = 60;

  /** Serve /docs (Swagger UI and the OpenAPI document) without sign-in. */
  @EnvBoolean()
  @IsBoolean()
  WAGGLE_PUBLIC_DOCS = false;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  WAGGLE_PORT = 3000;

  /** Interface to listen on. */
  @IsString()
  WAGGLE_HOST = '0.0.0.0';

  /**
   * The admin token to install on first start. Unset: the gateway makes one and prints it
   * once. Only its hash is stored.
   */
  @IsOptional()
  @IsString()
  @MinLength(24, { message: 'WAGGLE_ADMIN_TOKEN must be at least 24 characters' })
  WAGGLE_ADMIN_TOKEN?: string;

  /**
   * The password of the first admin account (`admin`), installed on first start. Unset: the
   * gateway makes one and prints it once. Only its scrypt hash is stored.
   */
  @IsOptional()
  @IsString()
  @MinLength(10, { message: 'WAGGLE_ADMIN_PASSWORD must be at least 10 characters' })
  @MaxLength(256)
  WAGGLE_ADMIN_PASSWORD?: string;

  /** A session ends after this many seconds without a request (every request with its cookie starts the count again). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(30 * 86_400)
  WAGGLE_SESSION_IDLE_SECONDS = 3_600;

  /**
   * Failed sign-ins per minute for one account name; the next attempt (even with the right
   * password) is answered 429 until the minute ends.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_LOGIN_FAILURES_PER_MINUTE = 5;

  /**
   * Failed sign-ins per minute from one address, whatever the names tried (higher than per
   * account: an office or a household signs in from one address, and people mistype).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE = 20;

  /** The hub's address as browsers reach it; an https:// address marks the session cookie Secure. */
  @IsOptional()
  @Matches(/^https?:\/\//, { message: 'WAGGLE_PUBLIC_URL must be an http:// or https:// URL' })
  WAGGLE_PUBLIC_URL?: string;

  /** Largest request body in bytes. */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  WAGGLE_BODY_LIMIT_BYTES = 1024 * 1024;

  /** Timeout of requests to the other services, in ms. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  WAGGLE_REQUEST_TIMEOUT_MS = 5_000;

  /** How long an LLM call through /v1 may take (failover included) before the gateway gives up. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  WAGGLE_LLM_REQUEST_TIMEOUT_MS = 600_000;
}
