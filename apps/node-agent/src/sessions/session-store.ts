import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { SessionCli } from '@waggle/contracts';

/** A session the agent made and recreates after a reboot. */
export interface ManagedSession {
  name: string;
  command: string[];
  cwd: string;
  cli: SessionCli;
  labels: string[];
  width: number;
  height: number;
  /** The CLI's own session id its hooks last told (Claude Code resumes it with `--resume`). */
  cliSessionId?: string;
  createdAt: string;
}

/**
 * `sessions.json` in the agent's state dir: the sessions it manages, written whole
 * (temporary file, then rename) whenever one is made, changed or killed.
 */
export class SessionStore {
  private readonly path: string;
  private sessions = new Map<string, ManagedSession>();
  private writing: Promise<void> = Promise.resolve();

  constructor(stateDir: string) {
    this.path = join(stateDir, 'sessions.json');
  }

  async load(): Promise<ManagedSession[]> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as { sessions?: ManagedSession[] };
      this.sessions = new Map((parsed.sessions ?? []).map((s) => [s.name, s]));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`cannot read ${this.path}: ${(error as Error).message}`);
      }
    }
    return this.all();
  }

  all(): ManagedSession[] {
    return [...this.sessions.values()];
  }

  get(name: string): ManagedSession | undefined {
    return this.sessions.get(name);
  }

  put(session: ManagedSession): Promise<void> {
    this.sessions.set(session.name, session);
    return this.save();
  }

  remove(name: string): Promise<void> {
    return this.sessions.delete(name) ? this.save() : Promise.resolve();
  }

  /** Writes one after the other, each the whole state at its time. */
  private save(): Promise<void> {
    const body = JSON.stringify({ v: 1, sessions: this.all() }, null, 2);
    this.writing = this.writing.then(async () => {
      const tmp = `${this.path}.tmp`;
      await writeFile(tmp, body, { mode: 0o600 });
      await rename(tmp, this.path);
    });
    return this.writing;
  }
}
