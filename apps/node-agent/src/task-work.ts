/** What a task's work may do: run programs (output to the task's logs) and note progress. */
export interface WorkContext {
  /** The attempt's working directory. */
  cwd: string;
  /** The task's environment (the agent's, without its secrets, plus WAGGLE_TASK_*). */
  env: NodeJS.ProcessEnv;
  /**
   * Runs one program (argument array) in its own process group; its output goes to the
   * task's logs, and stdout is also returned (up to 1 MiB). Refuses once the task is stopped.
   */
  exec(
    argv: string[],
    options?: { cwd?: string; stdin?: string; env?: NodeJS.ProcessEnv; quiet?: boolean },
  ): Promise<{ exitCode: number | null; stdout: string }>;
  /** Output of a program the work started itself (git through simple-git): to the task's logs, redacted. */
  output(stream: 'stdout' | 'stderr', text: string): void;
  /** A line of the agent's own in the task's log (progress of a long step). */
  note(text: string): void;
  /** Aborted once the attempt is stopped (cancel, timeout, lost lease): whatever the work runs must end. */
  signal: AbortSignal;
  stopped(): boolean;
}

export interface WorkResult {
  exitCode: number | null;
  /** The result's structured part (otherwise what the process wrote to $WAGGLE_RESULT_FILE). */
  structured?: object;
  error?: string;
}

/** The work of one attempt. */
export type TaskWork = (ctx: WorkContext) => Promise<WorkResult>;

/** Work that runs one program: `agent`, `command` and `shell` tasks. */
export function programWork(argv: string[], stdin?: string): TaskWork {
  return async (ctx) => ({ exitCode: (await ctx.exec(argv, { stdin })).exitCode });
}
