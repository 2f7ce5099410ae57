/**
 * What the agent and its task helper (task-helper-main.ts) say to each other over the
 * helper's IPC channel, one JSON message each. Types only: the helper loads nothing of the
 * agent's.
 */

/** Agent → helper. */
export type HelperRequest =
  | {
      /** Start a program in its own process group (process-group.ts); `done` follows. */
      t: 'run';
      id: number;
      argv: string[];
      cwd: string;
      /** The whole environment of the program; the helper adds the mark. */
      env: NodeJS.ProcessEnv;
      mark: string;
      stdin?: string;
      graceMs: number;
      /** What it leaves running is kept, unmarked (tmux: its server outlives the client that started it). */
      keep?: boolean;
    }
  /** Stop that program: SIGINT, SIGTERM, SIGKILL to its group and its mark, a grace apart. */
  | { t: 'stop'; id: number }
  /** Stop every process carrying `mark` (SIGTERM, SIGKILL after `graceMs`); `swept` follows. */
  | { t: 'sweep'; id: number; mark: string; graceMs: number };

/** Helper → agent. */
export type HelperEvent =
  /** Listening: requests may come. */
  | { t: 'ready' }
  | { t: 'out'; id: number; stream: 'stdout' | 'stderr'; data: string }
  /** The program has ended and what it left running is gone; `error`: it could not start. */
  | { t: 'done'; id: number; exitCode: number | null; error?: string }
  | { t: 'swept'; id: number; count: number }
  /** A line for the agent's log. */
  | { t: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> };

/** The helper's name in `ps` and /proc/<pid>/cmdline. */
export const HELPER_TITLE = 'waggle-task-helper';
