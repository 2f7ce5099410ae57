import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import type { Logger } from '@waggle/observability';

/** The reaper the watchdog becomes once the agent is gone (reaper-main.ts, compiled beside this file). */
const REAPER = join(__dirname, 'reaper-main.js');
/**
 * Reads its stdin, a pipe from the agent, until the agent is gone (end of file, however the
 * agent ended: only the agent holds the other end), then becomes the reaper. A shell
 * blocked in `read` costs about a megabyte; node is started only when it is needed.
 */
const SCRIPT = 'while read -r _; do :; done; exec "$@"';
/** Its name in `ps` (`$0` of the script). */
export const WATCHDOG_NAME = 'waggle-watchdog';
const RESTART_MS = 1_000;

export interface ProcessWatchdogOptions {
  /** The agent's mark: every process carrying it (or a mark below it) is stopped when the agent is gone. */
  mark: string;
  /** SIGTERM first, SIGKILL after this long. */
  graceMs: number;
  /** The watchdog's environment (the agent's without its secrets). */
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

/**
 * One small helper process per agent that outlives it: when the agent ends in any way,
 * SIGKILL included, it stops every process of the agent's tasks (process-marks.ts), so a
 * task's processes never run on after their agent, into the lease of the task's next
 * attempt. It runs in its own session, so a Ctrl-C meant for the agent does not take it
 * first. Should it die while the agent lives, the agent starts another.
 */
export class ProcessWatchdog {
  private child?: ChildProcess;
  private closed = false;
  private restart?: NodeJS.Timeout;

  constructor(private readonly options: ProcessWatchdogOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): this {
    const { mark, graceMs, env, logger } = this.options;
    const child = spawn('/bin/sh', ['-c', SCRIPT, WATCHDOG_NAME, process.execPath, REAPER, mark, String(graceMs)], {
      env,
      detached: true,
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    child.on('error', (error) => logger.error({ err: error }, 'cannot start the task watchdog'));
    child.stdin?.on('error', () => undefined);
    child.once('exit', (code, signal) => {
      if (this.closed) {
        return;
      }
      logger.warn({ code, signal }, 'the task watchdog ended while the agent runs; starting another');
      this.restart = setTimeout(() => this.start(), RESTART_MS);
    });
    // The agent's event loop does not wait for it.
    child.unref();
    this.child = child;
    return this;
  }

  /** Lets the watchdog act now, as if the agent were gone (for an agent that stops without exiting). */
  close(): void {
    this.closed = true;
    clearTimeout(this.restart);
    this.child?.stdin?.end();
  }
}
