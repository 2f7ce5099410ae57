import type { Command } from 'commander';

import type {
  ErrorEventView,
  ErrorGroupView,
  IngestKeyCreated,
  IngestKeyView,
  Page,
  WorkItemView,
} from '@waggle/contracts';
import { ERROR_GROUP_SORTS, ERROR_GROUP_STATUSES } from '@waggle/contracts';

import { ApiClient, CliError } from '../api-client';
import type { CliConfig } from '../cli.config';
import { ago, out } from '../output';

interface Flags {
  hub?: string;
  token?: string;
  json?: boolean;
}

const connection = (command: Command) =>
  command.option('--hub <url>').option('--token <token>', 'API token (or WAGGLE_TOKEN)');

const oneOf = (what: string, allowed: readonly string[]) => (value: string) => {
  if (!allowed.includes(value)) {
    throw new CliError(`${what} must be one of ${allowed.join(', ')}`);
  }
  return value;
};

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new CliError(`${value} is not a whole number above 0`);
  }
  return n;
};

function showGroup(g: ErrorGroupView) {
  out.line(`${g.title}`);
  out.line(`  id        ${g.id}`);
  out.line(`  project   ${g.projectKey}`);
  out.line(`  status    ${g.status}${g.ignoreUntil ? ` until ${g.ignoreUntil}` : ''}${g.ignoreUntilCount ? ` until ${g.ignoreUntilCount} events` : ''}`);
  out.line(`  where     ${g.culprit || '-'}`);
  out.line(`  events    ${g.count} (first ${ago(g.firstSeen)}, last ${ago(g.lastSeen)})`);
  out.line(`  machines  ${g.machines.join(', ') || '-'}`);
  out.line(`  releases  ${g.releases.join(', ') || '-'}`);
  if (g.bug) {
    out.line(`  bug       ${g.bug.ref} (${g.bug.status})${g.bug.pullRequestUrl ? ` ${g.bug.pullRequestUrl}` : ''}`);
  }
}

/** `waggle errors …`: error groups of the hub's projects, and the ingest keys Sentry SDKs send with. */
export function registerErrors(program: Command, config: CliConfig) {
  const errors = program
    .command('errors')
    .description('errors sent by Sentry SDKs and scripts, grouped: list, show, resolve, ignore, merge, bug, fix, dsn, keys');

  connection(
    errors
      .command('list')
      .description('error groups, last seen first')
      .option('--project <key>', 'only this project')
      .option('--status <status>', ERROR_GROUP_STATUSES.join('|'), oneOf('--status', ERROR_GROUP_STATUSES))
      .option('--machine <name>', 'seen on this machine')
      .option('--release <release>', 'seen in this release')
      .option('-q, --query <text>', 'text in the title or culprit')
      .option('--sort <sort>', ERROR_GROUP_SORTS.join('|'), oneOf('--sort', ERROR_GROUP_SORTS))
      .option('--limit <n>', 'how many (default 50)', positive)
      .option('--json', 'print JSON'),
  ).action(
    async (
      opts: Flags & {
        project?: string;
        status?: string;
        machine?: string;
        release?: string;
        query?: string;
        sort?: string;
        limit?: number;
      },
    ) => {
      const api = await ApiClient.fromFlags(opts, config);
      const params = new URLSearchParams(
        Object.entries({
          project: opts.project,
          status: opts.status,
          machine: opts.machine,
          release: opts.release,
          q: opts.query,
          sort: opts.sort,
          limit: String(opts.limit ?? 50),
        }).filter((e): e is [string, string] => e[1] !== undefined),
      );
      const page = await api.call<Page<ErrorGroupView>>('GET', `/api/errors?${params.toString()}`);
      if (opts.json) {
        return out.json(page.items);
      }
      out.table(
        ['ID', 'PROJECT', 'STATUS', 'COUNT', 'LAST SEEN', 'MACHINES', 'TITLE'],
        page.items.map((g) => [
          g.id,
          g.projectKey,
          g.status,
          g.count,
          ago(g.lastSeen),
          g.machines.slice(0, 3).join(',') + (g.machines.length > 3 ? '…' : ''),
          g.title.slice(0, 80),
        ]),
      );
      if (page.nextCursor) {
        out.line('(more: narrow with --project/--status/--query or raise --limit)');
      }
    },
  );

  connection(
    errors.command('show <id>').description("a group and its latest event's stack trace").option('--json', 'print JSON'),
  ).action(async (id: string, opts: Flags) => {
    const api = await ApiClient.fromFlags(opts, config);
    const group = await api.call<ErrorGroupView>('GET', `/api/errors/${encodeURIComponent(id)}`);
    const events = await api.call<Page<ErrorEventView>>('GET', `/api/errors/${encodeURIComponent(id)}/events?limit=1`);
    if (opts.json) {
      return out.json({ ...group, latestEvent: events.items[0] ?? null });
    }
    showGroup(group);
    const latest = events.items[0];
    if (latest) {
      out.line();
      out.line(`latest event ${latest.id} on ${latest.machine ?? '?'} ${ago(latest.receivedAt)}`);
      for (const e of latest.exceptions) {
        out.line(`  ${e.type}: ${e.value}`);
        for (const f of [...e.frames].reverse()) {
          out.line(`      at ${f.function ?? '?'} (${f.module ?? f.filename ?? '?'}${f.lineno ? `:${f.lineno}` : ''})`);
        }
      }
      if (!latest.exceptions.length) {
        out.line(`  ${latest.message}`);
      }
    }
  });

  connection(errors.command('resolve <id>').description('mark a group resolved (seen again: regressed)')).action(
    async (id: string, opts: Flags) => {
      const api = await ApiClient.fromFlags(opts, config);
      const g = await api.call<ErrorGroupView>('PATCH', `/api/errors/${encodeURIComponent(id)}`, { status: 'resolved' });
      out.line(`${g.id} resolved`);
    },
  );

  connection(
    errors
      .command('ignore <id>')
      .description('ignore a group, for good or until a time or N more events')
      .option('--until <iso>', 'until this time (ISO 8601)')
      .option('--count <n>', 'until this many more events', positive),
  ).action(async (id: string, opts: Flags & { until?: string; count?: number }) => {
    const api = await ApiClient.fromFlags(opts, config);
    const g = await api.call<ErrorGroupView>('PATCH', `/api/errors/${encodeURIComponent(id)}`, {
      status: 'ignored',
      ignoreUntil: opts.until,
      ignoreCount: opts.count,
    });
    out.line(`${g.id} ignored${opts.until ? ` until ${opts.until}` : ''}${opts.count ? ` for ${opts.count} more` : ''}`);
  });

  connection(
    errors.command('merge <into> <others...>').description('merge groups into one; their future events land there too'),
  ).action(async (into: string, others: string[], opts: Flags) => {
    const api = await ApiClient.fromFlags(opts, config);
    const g = await api.call<ErrorGroupView>('POST', `/api/errors/${encodeURIComponent(into)}/merge`, { groups: others });
    out.line(`${g.id} now has ${g.count} events`);
  });

  connection(errors.command('bug <id>').description('make a bug of a group (the same bug if it has one)')).action(
    async (id: string, opts: Flags) => {
      const api = await ApiClient.fromFlags(opts, config);
      const bug = await api.call<WorkItemView>('POST', `/api/errors/${encodeURIComponent(id)}/bug`);
      out.line(`${bug.ref}: ${bug.title}`);
    },
  );

  connection(
    errors
      .command('fix <id>')
      .description("hand the group's bug to an agent, which opens a pull request")
      .option('--target <machine>', 'the machine (default: the project placement)')
      .option('--cli <cli>', 'the agent CLI'),
  ).action(async (id: string, opts: Flags & { target?: string; cli?: string }) => {
    const api = await ApiClient.fromFlags(opts, config);
    const bug = await api.call<WorkItemView>(
      'POST',
      `/api/errors/${encodeURIComponent(id)}/fix`,
      { target: opts.target, cli: opts.cli },
      30_000,
    );
    out.line(`${bug.ref} is with an agent: task ${bug.taskId ?? '?'}`);
  });

  connection(
    errors
      .command('dsn <project>')
      .description('make an ingest key for the project and print its DSN (admin; the key is shown this once)')
      .option('--name <name>', "the key's name")
      .option('--rate <n>', 'events a minute it may send', positive),
  ).action(async (project: string, opts: Flags & { name?: string; rate?: number }) => {
    const api = await ApiClient.fromFlags(opts, config);
    const key = await api.call<IngestKeyCreated>('POST', `/api/projects/${encodeURIComponent(project)}/ingest-keys`, {
      name: opts.name,
      ratePerMinute: opts.rate,
    });
    out.line(key.dsn);
  });

  const keys = errors.command('keys').description("a project's ingest keys (admin): list, revoke");
  connection(keys.command('list <project>').option('--json', 'print JSON')).action(
    async (project: string, opts: Flags) => {
      const api = await ApiClient.fromFlags(opts, config);
      const items = await api.all<IngestKeyView>(`/api/projects/${encodeURIComponent(project)}/ingest-keys`, {});
      if (opts.json) {
        return out.json(items);
      }
      out.table(
        ['ID', 'NAME', 'KEY', 'RATE/MIN', 'MADE', 'BY', 'REVOKED'],
        items.map((k) => [k.id, k.name, `${k.prefix}…`, k.ratePerMinute, ago(k.createdAt), k.createdBy, k.revokedAt ? ago(k.revokedAt) : '-']),
      );
    },
  );
  connection(keys.command('revoke <id>').description('revoke a key: what it sends is refused from then on')).action(
    async (id: string, opts: Flags) => {
      const api = await ApiClient.fromFlags(opts, config);
      await api.call('DELETE', `/api/ingest-keys/${encodeURIComponent(id)}`);
      out.line(`revoked ${id}`);
    },
  );
}
