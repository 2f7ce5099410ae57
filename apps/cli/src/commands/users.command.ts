import { randomBytes } from 'node:crypto';

import type { Command } from 'commander';
import { read } from 'read';

import type { CreatedUser, Role, UserView } from '@waggle/contracts';
import { MIN_PASSWORD_LENGTH, ROLES } from '@waggle/contracts';

import { ApiClient, CliError } from '../api-client';
import type { CliConfig } from '../cli.config';
import { ago, out } from '../output';

interface Flags {
  hub?: string;
  token?: string;
  json?: boolean;
  passwordStdin?: boolean;
}

function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new CliError(`--role must be one of ${ROLES.join(', ')}`);
  }
  return value as Role;
}

/** The first line of stdin (a password piped in, never on the command line, where `ps` and shell history would show it). */
async function passwordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(0x0a) || Buffer.concat(chunks).length > 4096) {
      break;
    }
  }
  const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (!password) {
    throw new CliError('no password on stdin');
  }
  return password;
}

/** Asked twice in the terminal, not echoed; empty: undefined (the caller generates one). */
async function passwordFromPrompt(): Promise<string | undefined> {
  const ask = (prompt: string) => read({ prompt, silent: true, replace: '', output: process.stderr });
  const first = await ask(`password (at least ${MIN_PASSWORD_LENGTH} characters; empty: generate one): `);
  if (!first) {
    return undefined;
  }
  if ((await ask('again: ')) !== first) {
    throw new CliError('the passwords differ');
  }
  return first;
}

/**
 * The password to set: piped in with --password-stdin, else asked in a terminal, else
 * (or when left empty) undefined, and the caller has one generated and prints it once.
 */
async function choosePassword(flags: Flags): Promise<string | undefined> {
  if (flags.passwordStdin) {
    return passwordFromStdin();
  }
  return process.stdin.isTTY ? passwordFromPrompt() : undefined;
}

const connection = (command: Command) =>
  command.option('--hub <url>').option('--token <token>', 'admin token (or WAGGLE_TOKEN)');

export function registerUsers(program: Command, config: CliConfig) {
  const users = program
    .command('users')
    .description("people's accounts for the visor (admin): add, list, remove, passwd, role");

  connection(
    users
      .command('add <name>')
      .description('add an account; the password is asked, piped in (--password-stdin) or generated and printed once')
      .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, parseRole)
      .option('--password-stdin', 'read the password from the first line of stdin')
      .option('--json', 'print JSON'),
  ).action(async (name: string, opts: Flags & { role: Role }) => {
    const api = await ApiClient.fromFlags(opts, config);
    const password = await choosePassword(opts);
    const created = await api.call<CreatedUser>('POST', '/api/users', { name, role: opts.role, password });
    if (opts.json) {
      return out.json(created);
    }
    out.line(`added ${created.user.name} (${created.user.role})`);
    if (created.password) {
      out.line(`password (shown once, only its hash is stored):`);
      out.line(`  ${created.password}`);
    }
  });

  connection(users.command('list').description('list the accounts').option('--json', 'print JSON')).action(
    async (opts: Flags) => {
      const api = await ApiClient.fromFlags(opts, config);
      const items = await api.all<UserView>('/api/users', {});
      if (opts.json) {
        return out.json(items);
      }
      out.table(
        ['NAME', 'ROLE', 'STATUS', 'LAST SIGN-IN', 'ADDED'],
        items.map((u) => [u.name, u.role, u.disabled ? 'disabled' : 'active', ago(u.lastLoginAt), ago(u.createdAt)]),
      );
    },
  );

  connection(users.command('remove <name>').description('remove an account and end its sessions')).action(
    async (name: string, opts: Flags) => {
      const api = await ApiClient.fromFlags(opts, config);
      await api.call('DELETE', `/api/users/${encodeURIComponent(name)}`);
      out.line(`removed ${name}`);
    },
  );

  connection(
    users
      .command('passwd <name>')
      .description("set an account's password (asked, piped in, or generated and printed once); ends its sessions")
      .option('--password-stdin', 'read the password from the first line of stdin'),
  ).action(async (name: string, opts: Flags) => {
    const api = await ApiClient.fromFlags(opts, config);
    const chosen = await choosePassword(opts);
    const password = chosen ?? randomBytes(18).toString('base64url');
    await api.call('PATCH', `/api/users/${encodeURIComponent(name)}`, { password });
    out.line(`password of ${name} changed; its sessions ended`);
    if (!chosen) {
      out.line(`new password (shown once):`);
      out.line(`  ${password}`);
    }
  });

  connection(users.command('role <name> <role>').description(`change an account's role (${ROLES.join(', ')})`)).action(
    async (name: string, role: string, opts: Flags) => {
      const api = await ApiClient.fromFlags(opts, config);
      const changed = await api.call<UserView>('PATCH', `/api/users/${encodeURIComponent(name)}`, {
        role: parseRole(role),
      });
      out.line(`${changed.name} is now ${changed.role}`);
    },
  );
}
