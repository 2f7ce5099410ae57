import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

import { EnvBoolean, EnvList } from '@waggle/config';
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

  /** Tasks run at once (`--slots`). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(256)
  WAGGLE_AGENT_SLOTS = 1;

  /** Run `command` tasks (`--allow-command`). */
  @EnvBoolean()
  @IsBoolean()
  WAGGLE_AGENT_ALLOW_COMMAND = false;

  /** Run `shell` tasks (`--allow-shell`). */
  @EnvBoolean()
  @IsBoolean()
  WAGGLE_AGENT_ALLOW_SHELL = false;

  /** Folders whose git repositories the machine reports to the tracker (comma-separated; `--source`). */
  @IsOptional()
  @EnvList()
  @IsString({ each: true })
  WAGGLE_AGENT_SOURCES: string[] = [];

  /** How often the source folders are scanned again. */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(86_400_000)
  WAGGLE_AGENT_SOURCE_SCAN_INTERVAL_MS = 300_000;

  /** Where attempts get their working directories (default: <state dir>/work). */
  @IsOptional()
  @IsString()
  WAGGLE_AGENT_WORK_DIR?: string;

  /** Milliseconds between interrupt, terminate and kill when a task is stopped. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(600_000)
  WAGGLE_AGENT_KILL_GRACE_MS = 5_000;

  /**
   * On SIGTERM or Ctrl-C: how long running tasks may take to finish before they are stopped
   * and handed back to the hub (queued again at once). 0: handed back at once.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3600)
  WAGGLE_AGENT_STOP_GRACE_SECONDS = 10;

  /** How each agent CLI is run: a JSON array with {prompt} and {model} placeholders. */
  @IsOptional()
  @IsString()
  WAGGLE_AGENT_CLI_CLAUDE?: string;

  @IsOptional()
  @IsString()
  WAGGLE_AGENT_CLI_CODEX?: string;

  @IsOptional()
  @IsString()
  WAGGLE_AGENT_CLI_GEMINI?: string;

  @IsOptional()
  @IsString()
  WAGGLE_AGENT_CLI_OLLAMA?: string;

  /** The `waggle` CLI's main script (set by `waggle agent`): tasks get `waggle` on their PATH. */
  @IsOptional()
  @IsString()
  WAGGLE_AGENT_CLI_PATH?: string;

  /** This machine's GitHub token (or `_FILE`): it clones, pushes and opens pull requests as itself. Unset: no github-issue tasks. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  WAGGLE_AGENT_GITHUB_TOKEN?: string;

  /** GitHub's API root (GitHub Enterprise: https://HOST/api/v3). The token is sent nowhere else. */
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  WAGGLE_AGENT_GITHUB_API_URL = 'https://api.github.com';

  /** Least time between two writes to GitHub (GitHub asks for a second; pull requests and issues get three times it). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  WAGGLE_AGENT_GITHUB_WRITE_INTERVAL_MS = 1000;

  /** The git author of this machine's commits (default: waggle-<machine name>). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  WAGGLE_AGENT_GIT_NAME?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  WAGGLE_AGENT_GIT_EMAIL?: string;

  /** How long a failed attempt's working tree is kept for a look (0: removed at once). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  WAGGLE_AGENT_KEEP_FAILED_SECONDS = 24 * 3600;

  /** Where the default work folders go when the state folder is inside a checkout (else ~/.cache). */
  @IsOptional()
  @IsString()
  XDG_CACHE_HOME?: string;
  /** Serve agent sessions (tmux) to the hub: the hub may then start programs here and type into them. */
  @EnvBoolean()
  @IsBoolean()
  WAGGLE_AGENT_ALLOW_SESSIONS = false;

  /** How often session screens are read, in ms. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  WAGGLE_AGENT_SESSIONS_WATCH_MS = 1000;

  /** Most sessions this machine runs at once. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  WAGGLE_AGENT_MAX_SESSIONS = 32;

  /** A JSON file of screen patterns per CLI (`{"claude": {"needsInput": ["…"], "busy": […], "prompt": […]}}`). */
  @IsOptional()
  @IsString()
  WAGGLE_AGENT_SESSION_PATTERNS_FILE?: string;

  /** The PATH tasks inherit (with `waggle` put first). */
  @IsOptional()
  @IsString()
  PATH?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  WAGGLE_LOG_LEVEL = 'info';
}
