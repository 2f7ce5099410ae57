import { writeFile } from 'node:fs/promises';

import type { ProgramRunner } from '../task-helper';

/** tmux's own settings for the agent's private server (its first start reads them). */
const TMUX_CONF = [
  // A program that ends leaves its pane: the agent sees the exit and its status, and the last screen stays readable.
  'set -g remain-on-exit on',
  'set -g history-limit 10000',
  // The screen is the program's alone: no status line in captures.
  'set -g status off',
  'set -g default-terminal "tmux-256color"',
].join('\n');

/** One pane, as `list-panes -a` prints it. */
export interface TmuxPane {
  session: string;
  windowIndex: number;
  windowName: string;
  windowActive: boolean;
  paneIndex: number;
  paneActive: boolean;
  command: string;
  cwd: string;
  pid: number;
  dead: boolean;
  deadStatus: number | null;
  width: number;
  height: number;
  /** Unix seconds of the window's last output. */
  activity: number;
}

const FIELDS = [
  'session_name',
  'window_index',
  'window_active',
  'pane_index',
  'pane_active',
  'pane_current_command',
  'pane_current_path',
  'pane_pid',
  'pane_dead',
  'pane_dead_status',
  'pane_dead_signal',
  'pane_width',
  'pane_height',
  'window_activity',
  // last: the one field a person names freely
  'window_name',
];
const LIST_FORMAT = FIELDS.map((f) => `#{${f}}`).join('\t');
/** Printed between the captures of one call: no screen line can be this. */
const CAPTURE_SEPARATOR = '\u0001waggle-capture\u0001';

export class TmuxError extends Error {}

/** A target tmux reads as exactly this session's current pane (`=` : no prefix matching). */
const paneOf = (session: string) => `=${session}:`;

/**
 * The agent's private tmux server (`tmux -S <state dir>/tmux.sock`): never a user's own
 * tmux. Every call is an argument array run by the task helper (the agent never forks),
 * and what tmux starts is kept running, unmarked: sessions outlive the agent.
 */
export class Tmux {
  constructor(
    private readonly options: {
      socket: string;
      configFile: string;
      programs: ProgramRunner;
      env: NodeJS.ProcessEnv;
      cwd: string;
      /** The agent's mark (a required field of the helper's protocol; a kept program carries none). */
      mark: string;
    },
  ) {}

  async writeConfig(): Promise<void> {
    await writeFile(this.options.configFile, `${TMUX_CONF}\n`, { mode: 0o600 });
  }

  /** Runs one tmux command (or a `;`-separated sequence); stdout, or a TmuxError with tmux's message. */
  async run(args: string[], allowFailure = false): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    let stderr = '';
    const { exitCode, stdout } = await this.options.programs.run(
      ['tmux', '-S', this.options.socket, '-f', this.options.configFile, ...args],
      {
        cwd: this.options.cwd,
        env: this.options.env,
        mark: this.options.mark,
        keep: true,
        signal: AbortSignal.timeout(10_000),
        graceMs: 1_000,
        onOutput: (stream, data) => {
          if (stream === 'stderr' && stderr.length < 4096) {
            stderr += data;
          }
        },
      },
    );
    if (exitCode !== 0 && !allowFailure) {
      throw new TmuxError(stderr.trim() || `tmux ${args[0]} failed (exit ${exitCode})`);
    }
    return { ok: exitCode === 0, stdout, stderr };
  }

  /** Every pane of every session; none when the server is not running. */
  async listPanes(): Promise<TmuxPane[]> {
    const { ok, stdout } = await this.run(['list-panes', '-a', '-F', LIST_FORMAT], true);
    if (!ok) {
      return [];
    }
    const panes: TmuxPane[] = [];
    for (const line of stdout.split('\n')) {
      const parts = line.split('\t');
      if (parts.length < FIELDS.length) {
        continue;
      }
      const [
        session,
        window,
        windowActive,
        pane,
        paneActive,
        command,
        cwd,
        pid,
        dead,
        deadStatus,
        deadSignal,
        width,
        height,
        activity,
      ] = parts;
      panes.push({
        session: session!,
        windowIndex: Number(window),
        windowName: parts.slice(FIELDS.length - 1).join('\t'),
        windowActive: windowActive === '1',
        paneIndex: Number(pane),
        paneActive: paneActive === '1',
        command: command!,
        cwd: cwd!,
        pid: Number(pid),
        dead: dead === '1',
        // A program a signal ended gets the shell's convention, 128 + the signal's number.
        deadStatus: deadStatus ? Number(deadStatus) : deadSignal ? 128 + Number(deadSignal) : null,
        width: Number(width),
        height: Number(height),
        activity: Number(activity),
      });
    }
    return panes;
  }

  async newSession(spec: {
    name: string;
    argv: string[];
    cwd: string;
    width: number;
    height: number;
    env: Record<string, string>;
  }): Promise<void> {
    // One argument would go to `sh -c`: a program always gets two or more, so tmux runs it directly.
    const argv = spec.argv.length === 1 ? ['env', '--', ...spec.argv] : spec.argv;
    await this.run([
      'new-session',
      '-d',
      '-s',
      spec.name,
      '-x',
      String(spec.width),
      '-y',
      String(spec.height),
      '-c',
      spec.cwd,
      ...Object.entries(spec.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      '--',
      ...argv.map(literal),
    ]);
  }

  async hasSession(name: string): Promise<boolean> {
    return (await this.run(['has-session', '-t', `=${name}`], true)).ok;
  }

  /** Types `text` literally, then presses `keys` (tmux key names). */
  async send(name: string, text: string | undefined, keys: string[]): Promise<void> {
    if (text) {
      await this.run(['send-keys', '-t', paneOf(name), '-l', '--', literal(text)]);
    }
    if (keys.length) {
      await this.run(['send-keys', '-t', paneOf(name), '--', ...keys]);
    }
  }

  /** The screens of several sessions' current panes in one call, in order. */
  async capture(names: string[], scrollback = 0): Promise<string[]> {
    if (!names.length) {
      return [];
    }
    const args: string[] = [];
    for (const [i, name] of names.entries()) {
      if (i) {
        args.push(';', 'display-message', '-p', CAPTURE_SEPARATOR, ';');
      }
      args.push('capture-pane', '-p', '-J', '-t', paneOf(name), ...(scrollback ? ['-S', `-${scrollback}`] : []));
    }
    const { stdout } = await this.run(args);
    return stdout.split(`${CAPTURE_SEPARATOR}\n`);
  }

  async resize(name: string, width: number, height: number): Promise<void> {
    await this.run(['resize-window', '-t', paneOf(name), '-x', String(width), '-y', String(height)]);
  }

  async kill(name: string): Promise<void> {
    await this.run(['kill-session', '-t', `=${name}`]);
  }
}

/**
 * tmux splits its argument list at any argument ending in `;` (a command separator) unless
 * the semicolon is escaped: text that ends in one is passed escaped, and reaches the pane as typed.
 */
export function literal(arg: string): string {
  return arg.endsWith(';') ? `${arg.slice(0, -1)}\\;` : arg;
}
