import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';

import { childEnvironment } from '@waggle/config';
import { programPath } from '@waggle/local-infra';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Starts the `waggle` command as a person would. The caller's WAGGLE_TOKEN and
 * WAGGLE_HUB_URL are not inherited: each test says which credential it means.
 */
export function spawnCli(args: string[], env: Record<string, string | undefined> = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [programPath('cli'), ...args], {
    env: childEnvironment({ WAGGLE_TOKEN: undefined, WAGGLE_HUB_URL: undefined, ...env }),
  });
}

/** Runs `waggle …` to the end and returns its exit code and output. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
