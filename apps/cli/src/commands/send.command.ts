import type { Command } from 'commander';

import type { MessageView } from '@waggle/contracts';

import { ApiClient } from '../api-client';
import type { CliConfig } from '../cli.config';
import { out } from '../output';

export function registerSend(program: Command, config: CliConfig) {
  program
    .command('send')
    .description('send a message to a machine, to all machines, or to the hub')
    .requiredOption('--to <name>', 'machine name or id, "all" or "hub"')
    .argument('<text...>', 'the message')
    .option('--json', 'print the stored message as JSON')
    .option('--hub <url>')
    .option('--token <token>')
    .option('--state-dir <dir>', 'send as the machine whose state dir this is')
    .action(
      async (text: string[], opts: { to: string; json?: boolean; hub?: string; token?: string; stateDir?: string }) => {
        const api = await ApiClient.fromFlags(opts, config);
        const message = await api.call<MessageView>('POST', '/api/messages', { to: opts.to, body: text.join(' ') });
        if (opts.json) {
          return out.json(message);
        }
        out.line(
          `message ${message.id} queued for ${message.recipients.length ? message.recipients.map((r) => r.name).join(', ') : 'the hub'}`,
        );
      },
    );
}
