import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';

/** Environment the `waggle` command reads. Flags win over these. */
export class CliConfig {
  /** Where `waggle up` keeps NATS, Postgres and the local agent's state. */
  @IsString()
  WAGGLE_HOME = '.waggle';

  /** Hub URL for API commands (default: the local agent's hub, else http://127.0.0.1:WAGGLE_PORT). */
  @IsOptional()
  @Matches(/^https?:\/\//)
  WAGGLE_HUB_URL?: string;

  /** The hub's address as other machines reach it (printed in join commands); unset: this machine's first non-loopback address. */
  @IsOptional()
  @Matches(/^https?:\/\//)
  WAGGLE_PUBLIC_URL?: string;

  /** Bearer token for API commands (an admin token, or a machine credential). */
  @IsOptional()
  @IsString()
  WAGGLE_TOKEN?: string;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  WAGGLE_PORT = 3000;

  /** External NATS; unset: `waggle up` starts nats-server from PATH. */
  @IsOptional()
  @Matches(/^(nats|tls):\/\//)
  WAGGLE_NATS_URL?: string;

  /** External Postgres; unset: `waggle up` starts an embedded one. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//)
  WAGGLE_DATABASE_URL?: string;

  @IsOptional()
  @IsString()
  @MinLength(24)
  WAGGLE_ADMIN_TOKEN?: string;

  /** The first admin account's password for `waggle up`'s first start (unset: generated and printed once). */
  @IsOptional()
  @IsString()
  @MinLength(10)
  WAGGLE_ADMIN_PASSWORD?: string;

  /** Seals the GitHub bot's webhook secrets (`waggle up` makes one under WAGGLE_HOME when unset). */
  @IsOptional()
  @IsString()
  WAGGLE_GITHUB_SECRETS_KEY?: string;

  /** Port for the embedded nats-server (default 4222, or a free one if taken). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  WAGGLE_NATS_PORT = 4222;

  /** Port for the embedded Postgres (default 5433, or a free one if taken). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  WAGGLE_POSTGRES_PORT = 5433;

  /** Set by the node-agent for the tasks it runs: its local socket (`waggle help`). */
  @IsOptional()
  @IsString()
  WAGGLE_AGENT_SOCKET?: string;

  /** Set by the node-agent: the task and attempt this process runs for. */
  @IsOptional()
  @IsString()
  WAGGLE_TASK_ID?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_TASK_ATTEMPT?: number;
}
