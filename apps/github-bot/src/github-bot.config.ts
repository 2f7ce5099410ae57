import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';

import { HubServiceConfig } from '@waggle/config';

/** Every variable the GitHub bot reads. */
export class GithubBotConfig extends HubServiceConfig {
  /**
   * The bot's GitHub token (or GITHUB_TOKEN_FILE, e.g. a Docker secret), or `vault:NAME` to read
   * it from the vault at start: it polls, comments and labels with it. Unset or empty: the bot
   * runs but watches nothing until one is given.
   */
  @IsOptional()
  @IsString()
  GITHUB_TOKEN?: string;

  /** GitHub's API root (GitHub Enterprise: https://HOST/api/v3). */
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  WAGGLE_GITHUB_API_URL = 'https://api.github.com';

  /** 32 random bytes, base64: encrypts the webhook secrets at rest (AES-256-GCM). */
  @Matches(/^[A-Za-z0-9+/]{43}=$/, {
    message: 'WAGGLE_GITHUB_SECRETS_KEY must be 32 random bytes in base64 (openssl rand -base64 32)',
  })
  WAGGLE_GITHUB_SECRETS_KEY!: string;

  /** How often each polled repository is asked for labelled issues (conditional requests: unchanged costs nothing). */
  @Type(() => Number)
  @IsInt()
  @Min(200)
  WAGGLE_GITHUB_POLL_INTERVAL_MS = 60_000;

  /** How often unfinished issues are checked against their tasks (task events wake them sooner). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  WAGGLE_GITHUB_SYNC_INTERVAL_MS = 10_000;

  /** Least time between two writes to GitHub (GitHub asks for a second). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  WAGGLE_GITHUB_WRITE_INTERVAL_MS = 1000;

  /** Attempts of each task made from an issue (a crashed machine's attempt is one). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  WAGGLE_GITHUB_MAX_ATTEMPTS = 2;

  /** Port of /metrics, /health, /ready (0: none). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  WAGGLE_GITHUB_BOT_METRICS_PORT = 9104;
}

/** The bot's token, if it has one (an empty variable, as compose passes an unset one, is none). */
export function botToken(config: GithubBotConfig): string | null {
  return config.GITHUB_TOKEN?.trim() || null;
}
