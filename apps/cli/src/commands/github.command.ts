import type { Command } from 'commander';

import type { GithubLinkView, GithubMode, WatchedRepoCreated, WatchedRepoView } from '@waggle/contracts';

import { ApiClient } from '../api-client';
import type { CliConfig } from '../cli.config';
import { ago, out, state } from '../output';

interface WatchFlags {
  label?: string;
  secret?: string;
  poll: boolean;
  needs: string[];
  machineLabel: string[];
  target?: string;
  cli?: string;
  mode?: string;
  json?: boolean;
  hub?: string;
  token?: string;
}

const repeat = (v: string, all: string[]) => [...all, v];

export function registerGithub(program: Command, config: CliConfig) {
  const github = program.command('github').description('GitHub issues that become tasks, and what came of them');

  github
    .command('watch <repo>')
    .description(
      'watch OWNER/REPO: open issues with the label become tasks; results come back as pull requests, comments or failure reports',
    )
    .option('--label <label>', 'trigger label (default waggle)')
    .option('--secret <secret>', 'webhook secret (default: one is made and printed once)')
    .option('--no-poll', 'webhooks only (do not poll the repository)')
    .option('--needs <tag>', 'capability every machine must have, repeatable', repeat, [] as string[])
    .option('--machine-label <label>', 'machine label every candidate must have, repeatable', repeat, [] as string[])
    .option('--target <machine>', 'run every task of this repository on this machine')
    .option('--cli <cli>', 'agent CLI: claude, codex, gemini or ollama')
    .option('--mode <mode>', 'pull-request (default) or follow-up')
    .option('--json', 'print JSON')
    .option('--hub <url>')
    .option('--token <token>')
    .action(async (repo: string, opts: WatchFlags) => {
      const api = await ApiClient.fromFlags(opts, config);
      const defaults = {
        capabilities: opts.needs.length ? opts.needs : undefined,
        labels: opts.machineLabel.length ? opts.machineLabel : undefined,
        target: opts.target,
        cli: opts.cli,
        mode: opts.mode ? (opts.mode.replace('-', '_') as GithubMode) : undefined,
      };
      const watched = await api.call<WatchedRepoCreated>('POST', '/api/github/repos', {
        repo,
        label: opts.label,
        webhookSecret: opts.secret,
        poll: opts.poll,
        defaults: Object.values(defaults).some((v) => v !== undefined) ? defaults : undefined,
      });
      if (opts.json) {
        return out.json(watched);
      }
      out.line(
        `watching ${watched.repo}: open issues labelled "${watched.label}" become tasks${watched.poll ? ' (polled, and by webhook)' : ' (by webhook)'}`,
      );
      out.line(`webhook: ${api.hubUrl}${watched.webhookPath}  (content type application/json, event "Issues")`);
      if (watched.webhookSecret) {
        out.line(`webhook secret (shown once): ${watched.webhookSecret}`);
      }
    });

  github
    .command('repos')
    .description('watched repositories')
    .option('--json', 'print JSON')
    .option('--hub <url>')
    .option('--token <token>')
    .action(async (opts: { json?: boolean; hub?: string; token?: string }) => {
      const api = await ApiClient.fromFlags(opts, config);
      const items = await api.all<WatchedRepoView>('/api/github/repos', {});
      if (opts.json) {
        return out.json(items);
      }
      if (!items.length) {
        return out.line('No repositories watched. Start with `waggle github watch OWNER/REPO`.');
      }
      out.table(
        ['REPO', 'LABEL', 'POLL', 'LAST POLL', 'PROBLEM'],
        items.map((r) => [
          r.repo,
          r.label,
          r.poll ? 'yes' : 'no',
          ago(r.lastPolledAt),
          r.rateLimitedUntil ? `rate limited until ${r.rateLimitedUntil}` : (r.lastError ?? r.linkProblem ?? '-'),
        ]),
      );
    });

  github
    .command('unwatch <repo>')
    .description('stop watching OWNER/REPO (issues already linked keep their tasks)')
    .option('--hub <url>')
    .option('--token <token>')
    .action(async (repo: string, opts: { hub?: string; token?: string }) => {
      const api = await ApiClient.fromFlags(opts, config);
      const removed = await api.call<WatchedRepoView>(
        'DELETE',
        `/api/github/repos/${repo.split('/').map(encodeURIComponent).join('/')}`,
      );
      out.line(`no longer watching ${removed.repo}`);
    });

  github
    .command('links')
    .description('issues, their tasks and outcomes (newest first)')
    .option('--repo <repo>', 'only this repository')
    .option('--status <status>', 'queued, in_progress, done or failed')
    .option('--json', 'print JSON')
    .option('--hub <url>')
    .option('--token <token>')
    .action(async (opts: { repo?: string; status?: string; json?: boolean; hub?: string; token?: string }) => {
      const api = await ApiClient.fromFlags(opts, config);
      const items = await api.all<GithubLinkView>('/api/github/links', { repo: opts.repo, status: opts.status });
      if (opts.json) {
        return out.json(items);
      }
      if (!items.length) {
        return out.line('No issues have become tasks yet.');
      }
      out.table(
        ['ISSUE', 'STATUS', 'TASK', 'MACHINE', 'OUTCOME', 'PROBLEM'],
        items.map((l) => [
          `${l.repo}#${l.issueNumber}`,
          state(l.status),
          l.taskId?.slice(0, 8) ?? '-',
          l.claimedBy ?? '-',
          l.pullRequest?.url ??
            (l.followUps.length ? l.followUps.map((f) => `#${f.number}`).join(' ') : (l.error ?? l.outcome ?? '-')),
          l.problem ?? '-',
        ]),
      );
    });
}
