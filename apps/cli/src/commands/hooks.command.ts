import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import type { Command } from 'commander';

import type { HookEvent } from '@waggle/contracts';
import { HOOK_EVENTS } from '@waggle/contracts';

import { CliError } from '../api-client';
import type { CliConfig } from '../cli.config';
import { out } from '../output';
import { askAgent } from './help.command';

/** Every hook command Waggle writes starts with this: what status finds and uninstall removes. */
const OURS = 'waggle ';
/** Unread messages go into the agent's context when a prompt is submitted (their stdout is added to it). */
const INBOX_HOOK = 'waggle inbox --unread --mark-read';
const report = (event: HookEvent) => `waggle hooks report ${event}`;

type HookCli = 'claude' | 'codex' | 'gemini';
const HOOK_CLIS: HookCli[] = ['claude', 'codex', 'gemini'];

interface HookEntry {
  type: 'command';
  command: string;
}
interface HookGroup {
  matcher?: string;
  hooks: HookEntry[];
}
type Settings = { hooks?: Record<string, HookGroup[]> } & Record<string, unknown>;

/** Each CLI's hook events (their names) and the commands Waggle runs on each. */
const JSON_HOOKS: Record<'claude' | 'gemini', Record<string, string[]>> = {
  claude: {
    SessionStart: [report('session-start')],
    UserPromptSubmit: [INBOX_HOOK, report('prompt-submit')],
    Notification: [report('notification')],
    Stop: [report('stop')],
  },
  gemini: {
    SessionStart: [report('session-start')],
    BeforeAgent: [INBOX_HOOK, report('prompt-submit')],
    Notification: [report('notification')],
    AfterAgent: [report('stop')],
  },
};

function settingsFile(cli: HookCli, project?: string): string {
  if (cli === 'codex') {
    if (project) {
      throw new CliError('codex reads its notify program from ~/.codex/config.toml only: leave out --project', 2);
    }
    return join(homedir(), '.codex', 'config.toml');
  }
  const dir = cli === 'claude' ? '.claude' : '.gemini';
  return project ? join(resolve(project), dir, 'settings.json') : join(homedir(), dir, 'settings.json');
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.waggle-tmp`, text);
  await rename(`${file}.waggle-tmp`, file);
}

async function readSettings(file: string): Promise<Settings> {
  const text = await readText(file);
  if (!text?.trim()) {
    return {};
  }
  try {
    return JSON.parse(text) as Settings;
  } catch (error) {
    throw new CliError(`${file} is not JSON (${(error as Error).message}): fix it first, nothing was changed`);
  }
}

/** The settings without any hook command of ours (other hooks untouched). */
function withoutOurs(settings: Settings): Settings {
  const hooks: Record<string, HookGroup[]> = {};
  for (const [event, groups] of Object.entries(settings.hooks ?? {})) {
    const kept = groups
      .map((g) => ({ ...g, hooks: g.hooks.filter((h) => !h.command?.startsWith(OURS)) }))
      .filter((g) => g.hooks.length);
    if (kept.length) {
      hooks[event] = kept;
    }
  }
  const rest: Settings = { ...settings };
  delete rest.hooks;
  return Object.keys(hooks).length ? { ...rest, hooks } : rest;
}

function oursIn(settings: Settings): string[] {
  return Object.entries(settings.hooks ?? {}).flatMap(([event, groups]) =>
    groups.flatMap((g) => g.hooks.filter((h) => h.command?.startsWith(OURS)).map((h) => `${event}: ${h.command}`)),
  );
}

const CODEX_NOTIFY = 'notify = ["waggle", "hooks", "report", "codex-notify"]';

async function install(cli: HookCli, project?: string): Promise<string> {
  const file = settingsFile(cli, project);
  if (cli === 'codex') {
    const text = (await readText(file)) ?? '';
    if (text.includes(CODEX_NOTIFY)) {
      return file;
    }
    if (/^\s*notify\s*=/m.test(text)) {
      throw new CliError(`${file} already has a notify program: remove it first (codex runs only one)`);
    }
    // A top-level key goes before the first table.
    await writeAtomically(file, `${CODEX_NOTIFY}\n${text}`);
    return file;
  }
  const settings = withoutOurs(await readSettings(file));
  const hooks = { ...(settings.hooks ?? {}) };
  for (const [event, commands] of Object.entries(JSON_HOOKS[cli])) {
    hooks[event] = [...(hooks[event] ?? []), { hooks: commands.map((command) => ({ type: 'command', command })) }];
  }
  await writeAtomically(file, `${JSON.stringify({ ...settings, hooks }, null, 2)}\n`);
  return file;
}

async function uninstall(cli: HookCli, project?: string): Promise<string> {
  const file = settingsFile(cli, project);
  const text = await readText(file);
  if (text === undefined) {
    return file;
  }
  if (cli === 'codex') {
    await writeAtomically(file, text.replace(`${CODEX_NOTIFY}\n`, ''));
    return file;
  }
  await writeAtomically(file, `${JSON.stringify(withoutOurs(await readSettings(file)), null, 2)}\n`);
  return file;
}

async function status(cli: HookCli, project?: string): Promise<string[]> {
  const file = settingsFile(cli, project);
  if (cli === 'codex') {
    return (await readText(file))?.includes(CODEX_NOTIFY) ? [`notify: ${CODEX_NOTIFY}`] : [];
  }
  return oursIn(await readSettings(file));
}

/** What a hook was given on stdin (Claude Code and Gemini CLI send a JSON event); none from a terminal. */
async function hookInput(): Promise<Record<string, unknown>> {
  if (process.stdin.isTTY) {
    return {};
  }
  const text = await new Promise<string>((done) => {
    let data = '';
    const timer = setTimeout(() => done(data), 500);
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => (data += d.length + data.length > 64 * 1024 ? '' : d));
    process.stdin.on('end', () => {
      clearTimeout(timer);
      done(data);
    });
  });
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function registerHooks(program: Command, config: CliConfig) {
  const hooks = program
    .command('hooks')
    .description("an agent CLI's hooks: unread Waggle messages on each prompt, state changes to the hub");
  const cliArg = (cli: string): HookCli => {
    if (!(HOOK_CLIS as string[]).includes(cli)) {
      throw new CliError(`${cli}: expected one of ${HOOK_CLIS.join(', ')}`, 2);
    }
    return cli as HookCli;
  };

  hooks
    .command('install <cli>')
    .description('write the hooks into claude, codex or gemini settings (user-wide, or one project)')
    .option('--project <dir>', "that project's settings instead of the user's")
    .action(async (cli: string, f: { project?: string }) => {
      const file = await install(cliArg(cli), f.project);
      out.line(`installed Waggle's ${cli} hooks in ${file}`);
    });

  hooks
    .command('status [cli]')
    .description("which of Waggle's hooks are installed")
    .option('--project <dir>')
    .action(async (cli: string | undefined, f: { project?: string }) => {
      for (const name of cli ? [cliArg(cli)] : HOOK_CLIS) {
        if (name === 'codex' && f.project) {
          continue;
        }
        const found = await status(name, f.project);
        out.line(`${name}: ${found.length ? 'installed' : 'not installed'} (${settingsFile(name, f.project)})`);
        for (const line of found) {
          out.line(`  ${line}`);
        }
      }
    });

  hooks
    .command('uninstall <cli>')
    .description("remove Waggle's hooks (others stay)")
    .option('--project <dir>')
    .action(async (cli: string, f: { project?: string }) => {
      const file = await uninstall(cliArg(cli), f.project);
      out.line(`removed Waggle's ${cli} hooks from ${file}`);
    });

  hooks
    .command('report <event> [payload]')
    .description(`(run by the hooks) tell this session's agent: ${HOOK_EVENTS.join(', ')}, codex-notify`)
    .action(async (event: string, payload: string | undefined) => {
      // Never in a hook's way: outside a Waggle session, or with the agent away, it says why and exits 0.
      const session = config.WAGGLE_SESSION;
      const socket = config.WAGGLE_AGENT_SOCKET;
      if (!session || !socket) {
        return;
      }
      const name: HookEvent | undefined =
        event === 'codex-notify'
          ? 'stop'
          : (HOOK_EVENTS as readonly string[]).includes(event)
            ? (event as HookEvent)
            : undefined;
      if (!name) {
        out.error(`unknown hook event ${event}`);
        return;
      }
      // codex passes its event as an argument (`payload`); it carries no session id Waggle needs.
      const input = event === 'codex-notify' || payload ? {} : await hookInput();
      const id =
        typeof input.session_id === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(input.session_id)
          ? input.session_id
          : undefined;
      try {
        await askAgent(socket, { op: 'session-hook', body: { session, event: name, cliSessionId: id } });
      } catch (error) {
        out.error(`waggle hooks report: ${(error as Error).message}`);
      }
    });
}
