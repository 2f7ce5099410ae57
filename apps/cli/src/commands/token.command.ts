import type { Command } from 'commander';

import type { CreatedJoinToken } from '@waggle/contracts';

import { ApiClient } from '../api-client';
import type { CliConfig } from '../cli.config';
import { out } from '../output';
import { reachableHubUrl } from '../public-url';

export function registerToken(program: Command, config: CliConfig) {
  const token = program.command('token').description('join tokens');
  token
    .command('create')
    .description('create a join token for new machines (admin)')
    .option('--description <text>')
    .option('--ttl <seconds>', 'lifetime in seconds (default 86400)', (v) => Number(v))
    .option('--max-uses <n>', 'how many machines may use it', (v) => Number(v))
    .option('--json', 'print JSON')
    .option('--hub <url>')
    .option('--token <token>', 'admin token (or WAGGLE_TOKEN)')
    .action(
      async (opts: {
        description?: string;
        ttl?: number;
        maxUses?: number;
        json?: boolean;
        hub?: string;
        token?: string;
      }) => {
        const api = await ApiClient.fromFlags(opts, config);
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
}
