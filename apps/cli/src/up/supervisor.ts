import { spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { closeSync, openSync, renameSync, statSync } from 'node:fs';

import { out } from '../output';

export interface ServiceSpec {
  name: string;
  entry: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
  /** Its output is appended to this file instead of the terminal (kept to about LOG_ROTATE_BYTES, one old file beside). */
  logFile?: string;
  /** What it sends over an IPC channel (one is opened only when this is given). */
  onMessage?: (message: unknown) => void;
}

/** A log file past this size is moved to `<file>.1` when its process starts. */
const LOG_ROTATE_BYTES = 20 * 1024 * 1024;

function openLog(file: string): number {
  try {
    if (statSync(file).size > LOG_ROTATE_BYTES) {
      renameSync(file, `${file}.1`);
    }
  } catch {
    // no file yet
  }
  return openSync(file, 'a', 0o600);
}

/**
 * Runs the hub's processes and restarts one that dies (with backoff), so `npm start`
 * behaves like a small process manager. Stops them in reverse order.
 */
export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;

  start(spec: ServiceSpec, restarts = 0): ChildProcess {
    const log = spec.logFile ? openLog(spec.logFile) : undefined;
    const stdio: StdioOptions = log === undefined ? ['inherit', 'inherit', 'inherit'] : ['ignore', log, log];
    const child = spawn(process.execPath, [spec.entry, ...(spec.args ?? [])], {
      stdio: spec.onMessage ? [...stdio, 'ipc'] : stdio,
      env: spec.env,
    });
    if (log !== undefined) {
      closeSync(log); // the child has its own
    }
    if (spec.onMessage) {
      child.on('message', spec.onMessage);
    }
    this.children.set(spec.name, child);
    const startedAt = Date.now();
    child.once('exit', (code, signal) => {
      if (this.stopping) {
        return;
      }
      if (code === 3 && spec.name === 'node-agent') {
        out.error(`[waggle] ${spec.name} stopped: its credential was revoked`);
        return;
      }
      const backoff = Date.now() - startedAt > 30_000 ? 1000 : Math.min(30_000, 1000 * 2 ** restarts);
      out.error(`[waggle] ${spec.name} exited (${signal ?? code}); restarting in ${backoff / 1000}s`);
      setTimeout(() => !this.stopping && this.start(spec, Date.now() - startedAt > 30_000 ? 0 : restarts + 1), backoff);
    });
    return child;
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const [, child] of [...this.children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) {
        continue;
      }
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      // Long enough for an agent's stop: its tasks' grace (10 s by default), then goodbye.
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    }
  }
}
