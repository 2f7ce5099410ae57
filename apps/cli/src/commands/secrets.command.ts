import { readFile } from 'node:fs/promises';

import type { Command } from 'commander';

import type { Page, RevealedSecret, RotationView, SecretAuditView, SecretView, VaultKeysView } from '@waggle/contracts';

import { ApiClient, CliError } from '../api-client';
import type { CliConfig } from '../cli.config';
import { ago, out } from '../output';

interface Connection {
  hub?: string;
  token?: string;
}

interface SetFlags extends Connection {
  category?: string;
  project?: string;
  machineLabel?: string;
  description?: string;
  file?: string;
  json?: boolean;
}

/** A rotation answers once every data key is re-wrapped. */
const ROTATE_TIMEOUT_MS = 300_000;

const withConnection = (cmd: Command) => cmd.option('--hub <url>').option('--token <token>');

/** One trailing newline (what `echo` and most editors add) is not part of a value. */
function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/**
 * The value from --file or from stdin, never from the command line (argv is visible to
 * every user of the machine and kept in shell history).
 */
async function readValue(file: string | undefined): Promise<string> {
  if (file) {
    return withoutFinalNewline(await readFile(file, 'utf8'));
  }
  if (process.stdin.isTTY) {
    throw new CliError('pipe the value on stdin (e.g. `pbpaste | waggle secrets set NAME`) or pass --file PATH', 2);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return withoutFinalNewline(Buffer.concat(chunks).toString('utf8'));
}

function scopeQuery(project: string | undefined): string {
  return project ? `?project=${encodeURIComponent(project)}` : '';
}

function secretPath(name: string, project: string | undefined, suffix = ''): string {
  return `/api/secrets/${encodeURIComponent(name)}${suffix}${scopeQuery(project)}`;
}

/** `waggle secrets …` and `waggle vault …`: the vault from the command line. */
export function registerSecrets(program: Command, config: CliConfig) {
  const secrets = program
    .command('secrets')
    .description('store and manage secrets in the vault (values are encrypted)');

  withConnection(
    secrets
      .command('set <name>')
      .description('store a secret, or give it a new value; the value is read from stdin or --file, never from argv')
      .option('--category <category>', 'api_key, password, token, certificate, ssh_key, env_var or general')
      .option('--project <name>', "only this project's tasks may use it (default: global)")
      .option('--machine-label <label>', 'only machines with this label receive it (tasks naming it run there)')
      .option('--description <text>')
      .option('--file <path>', 'read the value from this file')
      .option('--json', 'print JSON'),
  ).action(async (name: string, f: SetFlags) => {
    const value = await readValue(f.file);
    if (!value) {
      throw new CliError('the value is empty', 2);
    }
    const api = await ApiClient.fromFlags(f, config);
    const body = {
      name,
      value,
      category: f.category,
      project: f.project,
      machineLabel: f.machineLabel,
      description: f.description,
    };
    let saved: SecretView;
    try {
      saved = await api.call<SecretView>('POST', '/api/secrets', body);
    } catch (error) {
      if (!(error instanceof CliError) || !error.message.startsWith('409')) {
        throw error;
      }
      saved = await api.call<SecretView>('PATCH', secretPath(name, f.project), {
        value,
        category: f.category,
        description: f.description,
      });
    }
    if (f.json) {
      return out.json(saved);
    }
    out.line(`${saved.name} (${saved.scope}, ${saved.category}) stored encrypted; id ${saved.id}`);
  });

  withConnection(
    secrets
      .command('list')
      .description('secrets without their values, newest first')
      .option('--project <name>', 'only this project (global: only global secrets)')
      .option('--category <category>')
      .option('--json', 'print JSON'),
  ).action(async (f: Connection & { project?: string; category?: string; json?: boolean }) => {
    const api = await ApiClient.fromFlags(f, config);
    const items = await api.all<SecretView>('/api/secrets', { project: f.project, category: f.category });
    if (f.json) {
      return out.json(items);
    }
    out.table(
      ['NAME', 'SCOPE', 'CATEGORY', 'UPDATED', 'LAST ACCESSED', 'ACCESSES', 'DESCRIPTION'],
      items.map((s) => [
        s.name,
        s.scope,
        s.category,
        ago(s.updatedAt),
        s.lastAccessedAt ? ago(s.lastAccessedAt) : 'never',
        s.accessCount,
        s.description ?? '',
      ]),
    );
  });

  withConnection(
    secrets
      .command('get <name>')
      .description("a secret's metadata (never its value)")
      .option('--project <name>')
      .option('--json'),
  ).action(async (name: string, f: Connection & { project?: string; json?: boolean }) => {
    const secret = await (await ApiClient.fromFlags(f, config)).call<SecretView>('GET', secretPath(name, f.project));
    if (f.json) {
      return out.json(secret);
    }
    out.line(
      `${secret.name}  ${secret.scope}  ${secret.category}  accessed ${secret.accessCount}× (last ${secret.lastAccessedAt ? ago(secret.lastAccessedAt) : 'never'})`,
    );
  });

  withConnection(
    secrets
      .command('reveal <name>')
      .description('print the value (admin only; logged in the audit trail and counted)')
      .option('--project <name>'),
  ).action(async (name: string, f: Connection & { project?: string }) => {
    const secret = await (
      await ApiClient.fromFlags(f, config)
    ).call<RevealedSecret>('POST', secretPath(name, f.project, '/reveal'));
    process.stdout.write(`${secret.value}\n`);
  });

  withConnection(secrets.command('delete <name>').description('delete a secret').option('--project <name>')).action(
    async (name: string, f: Connection & { project?: string }) => {
      const secret = await (
        await ApiClient.fromFlags(f, config)
      ).call<SecretView>('DELETE', secretPath(name, f.project));
      out.line(`deleted ${secret.name} (${secret.scope})`);
    },
  );

  withConnection(
    secrets
      .command('audit')
      .description('who created, changed, revealed, used or deleted secrets, newest first')
      .option('--limit <n>', 'how many (default 50)', (v) => Number(v))
      .option('--json'),
  ).action(async (f: Connection & { limit?: number; json?: boolean }) => {
    const page = await (
      await ApiClient.fromFlags(f, config)
    ).call<Page<SecretAuditView>>('GET', `/api/secrets/audit?limit=${f.limit ?? 50}`);
    if (f.json) {
      return out.json(page.items);
    }
    out.table(
      ['WHEN', 'ACTION', 'SECRET', 'SCOPE', 'BY', 'FROM', 'DETAIL'],
      page.items.map((e) => [
        ago(e.at),
        e.action,
        e.secretName ?? '-',
        e.scope ?? '-',
        `${e.actor.kind}:${e.actor.name}`,
        e.actor.from ?? '-',
        e.detail ? JSON.stringify(e.detail) : '',
      ]),
    );
  });

  const vault = program.command('vault').description("the vault's keys");

  withConnection(
    vault
      .command('rotate-key')
      .description('re-wrap every data key under a new key version, then destroy the old one (no downtime)')
      .option('--json'),
  ).action(async (f: Connection & { json?: boolean }) => {
    const api = await ApiClient.fromFlags(f, config);
    const rotation = await api.call<RotationView>('POST', '/api/vault/rotate', undefined, ROTATE_TIMEOUT_MS);
    if (f.json) {
      return out.json(rotation);
    }
    out.line(
      `key version ${rotation.activeVersion} is active; ${rotation.rewrapped} data keys re-wrapped from version ${rotation.previousVersion} (retired) in ${rotation.durationMs} ms`,
    );
  });

  withConnection(vault.command('keys').description('key versions and what each wraps').option('--json')).action(
    async (f: Connection & { json?: boolean }) => {
      const keys = await (await ApiClient.fromFlags(f, config)).call<VaultKeysView>('GET', '/api/vault/keys');
      if (f.json) {
        return out.json(keys);
      }
      out.table(
        ['VERSION', 'STATE', 'CREATED', 'RETIRED', 'DATA KEYS'],
        keys.versions.map((v) => [
          v.version,
          v.state,
          ago(v.createdAt),
          v.retiredAt ? ago(v.retiredAt) : '-',
          v.dataKeys,
        ]),
      );
    },
  );
}
