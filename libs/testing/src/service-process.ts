import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

import { childEnvironment } from '@waggle/config';

/** One of our programs as a real OS process, killable and restartable, with its output kept. */
export class ServiceProcess {
  private child?: ChildProcess;
  readonly output: string[] = [];

  constructor(
    readonly name: string,
    private readonly entry: string,
    private env: Record<string, string | undefined>,
  ) {}

  start(extraEnv: Record<string, string | undefined> = {}): this {
    this.env = { ...this.env, ...extraEnv };
    const child = spawn(process.execPath, [this.entry], {
      env: childEnvironment({ WAGGLE_LOG_LEVEL: 'info', ...this.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const verbose = !!childEnvironment().WAGGLE_TEST_VERBOSE;
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString('utf8'));
      if (this.output.length > 2000) {
        this.output.splice(0, 1000);
      }
      if (verbose) {
        process.stderr.write(`[${this.name}] ${chunk.toString('utf8')}`);
      }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.child = child;
    return this;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves with the exit code once the process has ended. */
  exited(): Promise<number | null> {
    const child = this.child;
    if (!child || !this.running) {
      return Promise.resolve(child?.exitCode ?? null);
    }
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) {
      return;
    }
    const gone = this.exited();
    this.child!.kill(signal);
    await gone;
  }

  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.kill(signal);
    this.start();
  }

  /** Everything the process printed, for assertions and failure messages. */
  text(): string {
    return this.output.join('');
  }
}
