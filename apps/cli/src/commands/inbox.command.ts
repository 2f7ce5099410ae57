import { watch } from 'node:fs';

import type { Command } from 'commander';

import type { StoredMessage } from '@waggle/agent-state';
import { InboxStore } from '@waggle/agent-state';
import type { MessageView, Page } from '@waggle/contracts';

import { ApiClient, defaultStateDir } from '../api-client';
import type { CliConfig } from '../cli.config';
import { out } from '../output';

function show(messages: StoredMessage[], json: boolean) {
  if (json) {
    return out.json(messages);
  }
  for (const m of messages) {
    out.line(
      `#${m.id} ${m.sentAt} from ${m.from.name}${m.to === 'all' ? ' (to all)' : ''}${m.readAt ? '' : ' [unread]'}`,
    );
    out.line(`  ${m.body.replaceAll('\n', '\n  ')}`);
  }
}

/** The messages machines sent to the hub (`waggle send --to hub`), oldest of the page first. */
async function hubInbox(config: CliConfig, opts: { limit?: number; json?: boolean; token?: string }) {
  const api = await ApiClient.fromFlags({ token: opts.token }, config);
  const page = await api.call<Page<MessageView>>('GET', `/api/messages?to=hub&limit=${opts.limit ?? 50}`);
  const messages = [...page.items].reverse();
  if (opts.json) {
    return out.json(messages);
  }
  for (const m of messages) {
    out.line(`#${m.id} ${m.createdAt} from ${m.from.name}`);
    out.line(`  ${m.body.replaceAll('\n', '\n  ')}`);
  }
  if (page.nextCursor) {
    out.error(`(the last ${messages.length}; --limit N for more)`);
  }
}

export function registerInbox(program: Command, config: CliConfig) {
  program
    .command('inbox')
    .description("this machine's received messages, oldest first (kept locally by the agent)")
    .option('--unread', 'only messages not read yet')
    .option('--mark-read', 'mark the shown messages read (reported to the hub)')
    .option('--json', 'print JSON (for hooks: `waggle inbox --unread --mark-read --json`)')
    .option('--follow', 'keep printing new messages as they arrive')
    .option('--state-dir <dir>', "the agent's state dir")
    .option('--hub', 'instead: the messages machines sent to the hub (needs an admin token)')
    .option('--limit <n>', 'with --hub: how many, newest (default 50)', (v) => Number(v))
    .option('--token <token>', 'with --hub: the token to use (else WAGGLE_TOKEN)')
    .action(
      async (opts: {
        unread?: boolean;
        markRead?: boolean;
        json?: boolean;
        follow?: boolean;
        stateDir?: string;
        hub?: boolean;
        limit?: number;
        token?: string;
      }) => {
        if (opts.hub) {
          return hubInbox(config, opts);
        }
        const store = new InboxStore(opts.stateDir ?? defaultStateDir(config));
        const shown = new Set<string>();
        const emit = async () => {
          const fresh = (await store.list({ unread: opts.unread })).filter((m) => !shown.has(m.id));
          for (const m of fresh) {
            shown.add(m.id);
          }
          if (fresh.length || !opts.follow) {
            show(fresh, !!opts.json);
          }
          if (opts.markRead) {
            await store.markRead(fresh.filter((m) => !m.readAt).map((m) => m.id));
          }
        };
        await emit();
        if (!opts.follow) {
          return;
        }
        await new Promise<void>((resolve) => {
          let busy = Promise.resolve();
          const watcher = watch(store.inboxPath.replace(/[^/]+$/, ''), () => {
            busy = busy.then(emit).catch(() => undefined);
          });
          process.once('SIGINT', () => {
            watcher.close();
            resolve();
          });
        });
      },
    );
}
