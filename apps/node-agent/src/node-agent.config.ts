import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min } from 'class-validator';

import { EnvList } from '@waggle/config';
import { LABEL_PATTERN, NAME_PATTERN, NAME_RULE } from '@waggle/contracts';

/** The node-agent's settings; `waggle agent` sets them from its flags. */
export class NodeAgentConfig {
  /** Where the agent keeps its identity and inbox. */
  @IsString()
  WAGGLE_AGENT_STATE_DIR!: string;

  /** Hub URL, e.g. http://hub:3000 (needed to join; afterwards taken from the identity). */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  WAGGLE_AGENT_HUB_URL?: string;

  /** Join token, used once. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  WAGGLE_AGENT_JOIN_TOKEN?: string;

  @IsOptional()
  @Matches(NAME_PATTERN, { message: `WAGGLE_AGENT_NAME ${NAME_RULE}` })
  WAGGLE_AGENT_NAME?: string;

  /** Comma-separated labels (`gpu=4090,room=lab`). */
  @IsOptional()
  @EnvList()
  @Matches(LABEL_PATTERN, { each: true })
  WAGGLE_AGENT_LABELS: string[] = [];

  /** Overrides the NATS URL the hub gave at join (e.g. through a tunnel). */
  @IsOptional()
  @Matches(/^(nats|tls):\/\//)
  WAGGLE_AGENT_NATS_URL?: string;

  /** Inbox messages fetched per pull. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  WAGGLE_AGENT_INBOX_BATCH = 500;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  WAGGLE_LOG_LEVEL = 'info';
}
