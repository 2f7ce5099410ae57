import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

import { out } from '../output';

export interface ServiceSpec {
  name: string;
  entry: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * Runs the hub's processes and restarts one that dies (with backoff), so `npm start`
 * behaves like a small process manager. Stops them in reverse order.
 */
export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;

  start(spec: ServiceSpec, restarts = 0): ChildProcess {
    const child = spawn(process.execPath, [spec.entry, ...(spec.args ?? [])], { stdio: 'inherit', env: spec.env });
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
