import type { Command } from 'commander';

import type { AssignmentView, AttentionItemView, Page, ScreenView, SessionView } from '@waggle/contracts';

import { ApiClient, CliError } from '../api-client';
import { attach } from '../attach';
import type { CliConfig } from '../cli.config';
import { ago, out } from '../output';

interface Connection {
  hub?: string;
  token?: string;
  stateDir?: string;
}

const collect = (v: string, all: string[]) => [...all, v];
const withConnection = (cmd: Command) =>
  cmd
    .option('--hub <url>')
    .option('--token <token>')
    .option('--state-dir <dir>', 'act as the machine whose state dir this is');

/** `MACHINE:SESSION` → machine and session. */
function sessionRef(ref: string): [string, string] {
  const colon = ref.lastIndexOf(':');
  if (colon <= 0 || colon === ref.length - 1) {
    throw new CliError(`${ref}: expected MACHINE:SESSION`, 2);
  }
  return [ref.slice(0, colon), ref.slice(colon + 1)];
}

/** `MACHINE:SESSION` → its API path. */
function sessionPath(ref: string): string {
  const [machine, session] = sessionRef(ref);
  return `/api/sessions/${encodeURIComponent(machine)}/${encodeURIComponent(session)}`;
}

const where = (s: SessionView) => `${s.machine}:${s.name}`;

export function registerSessions(program: Command, config: CliConfig) {
  const sessions = program.command('sessions').description('agent sessions in tmux on your machines');

  withConnection(
    sessions
      .command('list')
      .description('sessions on every machine (or one), with their state')
      .option('--machine <machine>')
      .option('--state <state>', 'idle, busy, needs_input, finished or exited')
      .option('--json'),
  ).action(async (f: Connection & { machine?: string; state?: string; json?: boolean }) => {
    const api = await ApiClient.fromFlags(f, config);
    const items = await api.all<SessionView>('/api/sessions', { machine: f.machine, state: f.state });
    if (f.json) {
      return out.json(items);
    }
    out.table(
      ['SESSION', 'STATE', 'SINCE', 'CLI', 'COMMAND', 'CWD', 'WINDOWS', 'ACTIVITY'],
      items.map((s) => [
        where(s),
        s.state,
        ago(s.stateSince),
        s.cli,
        s.windows[0]?.panes[0]?.command ?? s.command[0] ?? '-',
        s.cwd,
        s.windows.map((w) => `${w.index}:${w.name}(${w.panes.length})`).join(' '),
        ago(s.activityAt),
      ]),
    );
  });

  withConnection(
    sessions
      .command('new <machine>')
      .description('start a program in a new tmux session on a machine: waggle sessions new MACHINE --name N -- claude')
      .requiredOption('--name <name>', 'the session name')
      .option('--cwd <dir>', 'working directory on the machine')
      .option('--cli <cli>', 'claude, codex, gemini, shell or other (default: from the program)')
      .option('--label <label>', 'a label the assigner matches, repeatable (role=worker)', collect, [] as string[])
      .option('--width <n>', 'columns', (v) => Number(v))
      .option('--height <n>', 'rows', (v) => Number(v))
      .option('--hooks', "install Waggle's hooks for the session's CLI first (waggle hooks install, in --cwd)")
      .option('--json')
      .argument('<command...>', 'the program and its arguments, after --'),
  ).action(
    async (
      machine: string,
      command: string[],
      f: Connection & {
        name: string;
        cwd?: string;
        cli?: string;
        label: string[];
        width?: number;
        height?: number;
        hooks?: boolean;
        json?: boolean;
      },
    ) => {
      const api = await ApiClient.fromFlags(f, config);
      const created = await api.call<SessionView>('POST', '/api/sessions', {
        machine,
        name: f.name,
        command,
        cwd: f.cwd,
        cli: f.cli,
        labels: f.label.length ? f.label : undefined,
        width: f.width,
        height: f.height,
        hooks: f.hooks,
      });
      if (f.json) {
        return out.json(created);
      }
      out.line(`${where(created)}  ${created.state}  ${created.command.join(' ')}`);
    },
  );

  withConnection(
    sessions
      .command('attach <session>')
      .description(
        "MACHINE:SESSION's live terminal here: its screen, then its output as it comes; what you type goes to it (operators); Ctrl-] detaches",
      )
      .option('--read-only', 'watch only: nothing typed is sent (always so for viewers)'),
  ).action(async (ref: string, f: Connection & { readOnly?: boolean }) => {
    const [machine, session] = sessionRef(ref);
    const api = await ApiClient.fromFlags(f, config);
    await attach(api, machine, session, { readOnly: f.readOnly ?? false });
  });

  withConnection(
    sessions
      .command('send <session> [text]')
      .description('type text into MACHINE:SESSION (then Enter, unless --no-enter); --key presses keys after it')
      .option('--no-enter', 'do not press Enter after the text')
      .option(
        '--key <key>',
        'a tmux key name pressed after the text, repeatable (Enter, C-c, Escape, Up, y)',
        collect,
        [] as string[],
      ),
  ).action(async (ref: string, text: string | undefined, f: Connection & { enter: boolean; key: string[] }) => {
    const api = await ApiClient.fromFlags(f, config);
    const reply = await api.call<{ turn: number }>('POST', `${sessionPath(ref)}/send`, {
      text,
      enter: text !== undefined && f.enter ? true : undefined,
      keys: f.key.length ? f.key : undefined,
    });
    out.line(`sent (turn ${reply.turn})`);
  });

  withConnection(
    sessions
      .command('capture <session>')
      .description("print MACHINE:SESSION's screen")
      .option('--scrollback <lines>', 'lines of history above the screen', (v) => Number(v)),
  ).action(async (ref: string, f: Connection & { scrollback?: number }) => {
    const api = await ApiClient.fromFlags(f, config);
    const screen = await api.call<ScreenView>(
      'GET',
      `${sessionPath(ref)}/screen${f.scrollback ? `?scrollback=${f.scrollback}` : ''}`,
    );
    process.stdout.write(screen.text);
  });

  withConnection(
    sessions
      .command('resize <session>')
      .description("resize MACHINE:SESSION's window")
      .requiredOption('--width <n>', 'columns', (v) => Number(v))
      .requiredOption('--height <n>', 'rows', (v) => Number(v)),
  ).action(async (ref: string, f: Connection & { width: number; height: number }) => {
    const api = await ApiClient.fromFlags(f, config);
    await api.call<SessionView>('POST', `${sessionPath(ref)}/resize`, { width: f.width, height: f.height });
    out.line(`${ref} is ${f.width}x${f.height}`);
  });

  withConnection(sessions.command('kill <session>').description('kill MACHINE:SESSION (it is not recreated)')).action(
    async (ref: string, f: Connection) => {
      const api = await ApiClient.fromFlags(f, config);
      await api.call('DELETE', sessionPath(ref));
      out.line(`${ref} killed`);
    },
  );

  withConnection(
    program
      .command('attention')
      .description('every session that needs input or has finished, on every machine, with the end of its screen')
      .option('--json'),
  ).action(async (f: Connection & { json?: boolean }) => {
    const api = await ApiClient.fromFlags(f, config);
    const items = await api.all<AttentionItemView>('/api/attention', {});
    if (f.json) {
      return out.json(items);
    }
    if (!items.length) {
      return out.line('nothing needs you');
    }
    for (const item of items) {
      out.line(`${item.machine}:${item.session}  ${item.state}  ${ago(item.since)}  (${item.cli})`);
      out.line(`  ${(item.excerpt ?? '').split('\n').slice(-6).join('\n  ')}`);
    }
    out.line('answer: waggle sessions send MACHINE:SESSION TEXT  (or --key y)');
  });

  withConnection(
    program
      .command('assign <prompt>')
      .description('queue a prompt for the next idle session that fits')
      .option('--priority <n>', '0..10, higher first (default 5)', (v) => Number(v))
      .option('--target <machine:session>', 'this session only')
      .option('--capability <cli>', "the session's CLI: claude, codex, gemini, shell")
      .option('--label <label>', 'a label the session must carry, repeatable', collect, [] as string[])
      .option('--timeout <duration>', 'from typed in to completed: 90s, 30m, 2h (default 30m)', parseDuration)
      .option('--retries <n>', 'attempts after a failure (default 0)', (v) => Number(v))
      .option('--json'),
  ).action(
    async (
      prompt: string,
      f: Connection & {
        priority?: number;
        target?: string;
        capability?: string;
        label: string[];
        timeout?: number;
        retries?: number;
        json?: boolean;
      },
    ) => {
      const api = await ApiClient.fromFlags(f, config);
      const created = await api.call<AssignmentView>('POST', '/api/assignments', {
        prompt,
        priority: f.priority,
        target: f.target,
        capability: f.capability,
        labels: f.label.length ? f.label : undefined,
        timeoutSeconds: f.timeout,
        retries: f.retries,
      });
      if (f.json) {
        return out.json(created);
      }
      out.line(`${created.id}  ${created.state}`);
    },
  );

  const assignments = program.command('assignments').description("the assigner's prompts and where they went");
  withConnection(assignments.command('list').option('--state <state>').option('--json')).action(
    async (f: Connection & { state?: string; json?: boolean }) => {
      const api = await ApiClient.fromFlags(f, config);
      const page = await api.call<Page<AssignmentView>>(
        'GET',
        `/api/assignments?limit=100${f.state ? `&state=${encodeURIComponent(f.state)}` : ''}`,
      );
      if (f.json) {
        return out.json(page.items);
      }
      out.table(
        ['ID', 'STATE', 'SESSION', 'ATTEMPTS', 'CREATED', 'PROMPT'],
        page.items.map((a) => [
          a.id.slice(0, 8),
          a.state,
          a.session ?? a.target ?? '-',
          a.attempts,
          ago(a.createdAt),
          a.prompt.slice(0, 60),
        ]),
      );
    },
  );
  for (const [verb, what] of [
    ['cancel', 'cancel a queued or running assignment'],
    ['retry', 'queue a failed or cancelled assignment again'],
  ] as const) {
    withConnection(assignments.command(`${verb} <id>`).description(what)).action(async (id: string, f: Connection) => {
      const api = await ApiClient.fromFlags(f, config);
      const a = await api.call<AssignmentView>('POST', `/api/assignments/${encodeURIComponent(id)}/${verb}`);
      out.line(`${a.id}  ${a.state}`);
    });
  }
  withConnection(
    assignments
      .command('reassign <id>')
      .description('queue it again for another session (or any that fits)')
      .option('--target <machine:session>'),
  ).action(async (id: string, f: Connection & { target?: string }) => {
    const api = await ApiClient.fromFlags(f, config);
    const a = await api.call<AssignmentView>('POST', `/api/assignments/${encodeURIComponent(id)}/reassign`, {
      target: f.target,
    });
    out.line(`${a.id}  ${a.state}${a.target ? ` for ${a.target}` : ''}`);
  });
  withConnection(
    assignments
      .command('clear')
      .description('delete completed, failed and cancelled assignments')
      .option('--older-than <duration>', 'only those finished this long ago (90s, 30m, 2h, 7d)', parseDuration),
  ).action(async (f: Connection & { olderThan?: number }) => {
    const api = await ApiClient.fromFlags(f, config);
    const reply = await api.call<{ cleared: number }>(
      'DELETE',
      `/api/assignments${f.olderThan ? `?olderThanSeconds=${f.olderThan}` : ''}`,
    );
    out.line(`cleared ${reply.cleared}`);
  });
}

/** `90`, `90s`, `30m`, `2h`, `7d` → seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match) {
    throw new CliError(`${value}: expected a duration such as 90s, 30m, 2h or 7d`, 2);
  }
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
