import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import { childEnvironment } from '@waggle/config';

export type BaselineProgram = 'bare-fastify' | 'bare-nats' | 'jetstream-drain' | 'bullmq-worker';

/** A baseline program of test/bench/programs, compiled beside this file. */
export function programEntry(name: BaselineProgram): string {
  return join(__dirname, 'programs', `${name}.js`);
}

/** Spawns a baseline program with this Node; its output is kept for error messages. */
export function spawnProgram(name: BaselineProgram, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [programEntry(name), ...args], {
    env: childEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (c: Buffer) => (text += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (text += c.toString('utf8')));
  return { child, output: () => text };
}

/** Spawns a baseline program and waits for its `ready …` line; gives the process and that line. */
export async function startProgram(
  name: BaselineProgram,
  args: string[],
): Promise<{ child: ChildProcess; line: string }> {
  const { child, output } = spawnProgram(name, args);
  const line = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const found = /^ready.*$/m.exec(output());
      if (found) {
        child.stdout?.off('data', check);
        resolve(found[0]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}): ${output()}`)));
  });
  return { child, line };
}

/** Resolves with the exit code once the process has ended. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode);
  }
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export async function stopProgram(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const gone = exited(child);
  child.kill(signal);
  await gone;
}
