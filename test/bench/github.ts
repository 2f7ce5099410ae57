import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

import { childEnvironment } from '@waggle/config';
import type { GithubLinkView, Page } from '@waggle/contracts';
import { eventually, FakeGithub, installFakeClaude, TestHub } from '@waggle/testing';

import type { Row } from './stats';
import { BENCH_ENV, percentile } from './stats';

const WEBHOOKS = 100;
const ISSUES = 20;
const SECRET = 'bench-webhook-secret-0123456789';
const BOT = 'ghp_benchBOTbenchBOTbenchBOTbench0001';
const MACHINE = 'ghp_benchMACHINEbenchMACHINEbench0002';

/**
 * The GitHub bot's cost, each beside doing the same by hand in the same run:
 * - a webhook (signature, dedup, issue → task) beside creating the task through the API;
 * - labelled issue → pull request opened, beside the same git and API work done directly
 *   (clone, commit, push, open the pull request) against the same fake GitHub.
 * Writes are not spaced (WAGGLE_GITHUB_WRITE_INTERVAL_MS=0); against GitHub they are, by design.
 */
export async function benchGithub(): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'waggle-bench-github-'));
  const fake = await FakeGithub.start({ dir: join(dir, 'remote') });
  fake.addUser('bench-bot', BOT);
  fake.addUser('bench-machine', MACHINE);
  await fake.createRepo('bench', 'hooks', { collaborators: ['bench-bot', 'bench-machine'] });
  await fake.createRepo('bench', 'work', { collaborators: ['bench-bot', 'bench-machine'] });
  await installFakeClaude(join(dir, 'bin'));
  const hub = await TestHub.start({
    env: BENCH_ENV,
    github: {
      env: {
        GITHUB_TOKEN: BOT,
        WAGGLE_GITHUB_API_URL: fake.url,
        WAGGLE_GITHUB_POLL_INTERVAL_MS: '3600000',
        // Log level stays at info: TestHub waits for each service's "ready" line.
      },
    },
  });
  try {
    const agent = await hub.startAgent('bench-agent', {
      slots: 1,
      env: {
        PATH: [join(dir, 'bin'), childEnvironment().PATH].join(delimiter),
        WAGGLE_AGENT_GITHUB_TOKEN: MACHINE,
        WAGGLE_AGENT_GITHUB_API_URL: fake.url,
        WAGGLE_AGENT_GITHUB_WRITE_INTERVAL_MS: '0',
        WAGGLE_LOG_LEVEL: 'warn',
      },
    });
    await eventually(async () => {
      const m = await hub.api<{ capabilityTags: string[] }>('GET', '/api/machines/bench-agent');
      if (!m.body.capabilityTags.includes('github')) {
        throw new Error('no github capability yet');
      }
    });
    for (const repo of ['hooks', 'work']) {
      const res = await hub.api('POST', '/api/github/repos', {
        repo: `bench/${repo}`,
        webhookSecret: SECRET,
        poll: false,
      });
      if (res.status !== 201) {
        throw new Error(`watch: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }

    const webhook = (repo: string, n: number) =>
      FakeGithub.deliver(`${hub.url}/api/github/webhook`, {
        event: 'issues',
        deliveryId: randomUUID(),
        payload: fake.issuesEvent('bench', repo, n, 'opened'),
        secret: SECRET,
      });
    const timed = async (run: () => Promise<unknown>) => {
      const started = performance.now();
      await run();
      return performance.now() - started;
    };

    // 1. Issue → pull request, one at a time, beside the same work done directly.
    const endToEnd: number[] = [];
    for (let i = 0; i < ISSUES; i++) {
      const issue = fake.openIssue('bench', 'work', { title: `work ${i}`, labels: ['waggle'], user: 'bench-bot' });
      endToEnd.push(
        await timed(async () => {
          await webhook('work', issue.number);
          await eventually(
            async () => {
              const links = await hub.api<Page<GithubLinkView>>('GET', `/api/github/links?repo=bench/work&limit=5`);
              const link = links.body.items.find((l) => l.issueNumber === issue.number);
              if (link?.status !== 'done') {
                throw new Error(`not done: ${link?.status}`);
              }
            },
            { timeoutMs: 60_000, intervalMs: 20 },
          );
        }),
      );
    }
    const byHand: number[] = [];
    const clone = fake.barePath('bench', 'work');
    for (let i = 0; i < ISSUES; i++) {
      const work = join(dir, `hand-${i}`);
      byHand.push(
        await timed(async () => {
          execFileSync('git', ['clone', '--quiet', '--branch', 'main', `file://${clone}`, work]);
          execFileSync('git', ['checkout', '--quiet', '-B', `hand/${i}`, 'origin/main'], { cwd: work });
          execFileSync('sh', ['-c', 'echo "- by hand" >> CHANGES.md'], { cwd: work });
          execFileSync('git', ['add', '--all'], { cwd: work });
          execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '--quiet', '-m', 'by hand'], {
            cwd: work,
          });
          execFileSync('git', ['push', '--quiet', `file://${clone}`, `HEAD:refs/heads/hand/${i}`], { cwd: work });
          const res = await fetch(`${fake.url}/repos/bench/work/pulls`, {
            method: 'POST',
            headers: { authorization: `token ${MACHINE}`, 'content-type': 'application/json' },
            body: JSON.stringify({ title: `by hand ${i}`, head: `hand/${i}`, base: 'main', body: 'by hand' }),
          });
          if (res.status !== 201) {
            throw new Error(`pull ${res.status}`);
          }
        }),
      );
    }
    // 2. Intake alone: with the machine off (known, so tasks are accepted, and they wait),
    // webhook → task created, beside POST /api/tasks of the same shape.
    await agent.kill('SIGKILL');
    const hooks: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < WEBHOOKS; i++) {
      const issue = fake.openIssue('bench', 'hooks', { title: `hook ${i}`, labels: ['waggle'], user: 'bench-bot' });
      hooks.push(
        await timed(async () => {
          const r = await webhook('hooks', issue.number);
          if (r.status !== 200) {
            throw new Error(`webhook ${r.status}`);
          }
        }),
      );
      direct.push(
        await timed(async () => {
          const r = await hub.api('POST', '/api/tasks', {
            title: `direct ${i}`,
            kind: 'github-issue',
            input: {
              prompt: 'x',
              github: { repo: 'bench/hooks', issueNumber: issue.number, issueTitle: 'x', mode: 'pull_request' },
            },
          });
          if (r.status !== 201) {
            throw new Error(`create ${r.status} ${JSON.stringify(r.body)}`);
          }
        }),
      );
    }

    return [
      {
        figure: 'webhook → task created p50',
        value: percentile(hooks, 50),
        baseline: percentile(direct, 50),
        unit: 'ms',
        baselineName: 'POST /api/tasks',
      },
      {
        figure: 'webhook → task created p99',
        value: percentile(hooks, 99),
        baseline: percentile(direct, 99),
        unit: 'ms',
        baselineName: 'POST /api/tasks',
      },
      {
        figure: 'labelled issue → pull request p50',
        value: percentile(endToEnd, 50),
        baseline: percentile(byHand, 50),
        unit: 'ms',
        baselineName: 'clone, commit, push, open PR by hand',
      },
    ];
  } finally {
    await hub.stop();
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
