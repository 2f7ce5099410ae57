import type { Command } from 'commander';

import type { ApiTokenView, CreatedApiToken, CreatedJoinToken, Role } from '@waggle/contracts';
import { ROLES } from '@waggle/contracts';

import { ApiClient, CliError } from '../api-client';
import type { CliConfig } from '../cli.config';
import { ago, out } from '../output';
import { reachableHubUrl } from '../public-url';

function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new CliError(`--role must be one of ${ROLES.join(', ')}`);
  }
  return value as Role;
}

export function registerToken(program: Command, config: CliConfig) {
  const token = program.command('token').description('join tokens for machines, API tokens for scripts');
  token
    .command('create')
    .description(
      'create a join token for new machines (admin); with --role, an API token for scripts acting with that role',
    )
    .option('--description <text>')
    .option('--ttl <seconds>', 'lifetime in seconds (default 86400)', (v) => Number(v))
    .option('--max-uses <n>', 'how many machines may use it', (v) => Number(v))
    .option('--role <role>', `make an API token with this role (${ROLES.join(', ')})`, parseRole)
    .option('--name <name>', "the API token's name (what it is for)", 'script')
    .option('--json', 'print JSON')
    .option('--hub <url>')
    .option('--token <token>', 'admin token (or WAGGLE_TOKEN)')
    .action(
      async (opts: {
        description?: string;
        ttl?: number;
        maxUses?: number;
        role?: Role;
        name: string;
        json?: boolean;
        hub?: string;
        token?: string;
      }) => {
        const api = await ApiClient.fromFlags(opts, config);
        if (opts.role) {
          const made = await api.call<CreatedApiToken>('POST', '/api/tokens', { name: opts.name, role: opts.role });
          if (opts.json) {
            return out.json(made);
          }
          out.line(`API token "${made.name}" (${made.role}; shown once, only its hash is stored):`);
          out.line(`  ${made.token}`);
          out.line(`  export WAGGLE_TOKEN=${made.token}`);
          return;
        }
        const created = await api.call<CreatedJoinToken>('POST', '/api/join-tokens', {
          description: opts.description,
          ttlSeconds: opts.ttl,
          maxUses: opts.maxUses,
        });
        if (opts.json) {
          return out.json(created);
        }
        out.line(`join token (shown once, expires ${created.expiresAt}):`);
        out.line(`  ${created.token}`);
        out.line('on the new machine:');
        out.line(
          `  npx waggle agent --hub ${reachableHubUrl(api.hubUrl, config.WAGGLE_PUBLIC_URL)} --join-token ${created.token} --name NAME`,
        );
      },
    );

  token
    .command('list')
    .description('list API tokens (admin)')
    .option('--json', 'print JSON')
    .option('--hub <url>')
    .option('--token <token>', 'admin token (or WAGGLE_TOKEN)')
    .action(async (opts: { json?: boolean; hub?: string; token?: string }) => {
      const api = await ApiClient.fromFlags(opts, config);
      const items = await api.all<ApiTokenView>('/api/tokens', {});
      if (opts.json) {
        return out.json(items);
      }
      out.table(
        ['ID', 'NAME', 'ROLE', 'CREATED', 'REVOKED'],
        items.map((t) => [t.id, t.name, t.role, ago(t.createdAt), t.revokedAt ? ago(t.revokedAt) : '-']),
      );
    });

  token
    .command('revoke <id>')
    .description('revoke an API token (admin)')
    .option('--hub <url>')
    .option('--token <token>', 'admin token (or WAGGLE_TOKEN)')
    .action(async (id: string, opts: { hub?: string; token?: string }) => {
      const api = await ApiClient.fromFlags(opts, config);
      const revoked = await api.call<ApiTokenView>('DELETE', `/api/tokens/${encodeURIComponent(id)}`);
      out.line(`revoked API token "${revoked.name}" (${revoked.role})`);
    });
}
