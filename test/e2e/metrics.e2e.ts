import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { ErrorBody, TaskView } from '@waggle/contracts';
import { eventually, FakeLlmProvider, TestHub } from '@waggle/testing';

const ROOT = resolve(__dirname, '..', '..', '..');
const PROMTOOL = 'promtool';

/** Runs promtool with `input` on stdin; everything it printed, and how it exited. */
function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const run = spawnSync(PROMTOOL, args, { input, encoding: 'utf8', cwd: ROOT });
  if (run.error) {
    throw new Error(
      `${PROMTOOL} could not run (${run.error.message}): install Debian's prometheus package, as .ci/run does`,
    );
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Metric families a /metrics text declares (`# TYPE name kind`), with the series names each one produces. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, kind] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (!name) {
      continue;
    }
    names.add(name);
    if (kind === 'histogram') {
      for (const suffix of ['_bucket', '_count', '_sum']) {
        names.add(name + suffix);
      }
    }
    if (kind === 'summary') {
      for (const suffix of ['_count', '_sum']) {
        names.add(name + suffix);
      }
    }
  }
  return names;
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);
/** Series Prometheus makes itself for every target. */
const SCRAPE_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/**
 * The metric names a PromQL expression reads: what is left once strings, label matchers,
 * ranges, grouping clauses, function calls, keywords and numbers are taken out.
 */
function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names: string[] = [];
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = match[0];
    const next = bare.slice((match.index ?? 0) + word.length).trimStart();
    if (next.startsWith('(') || PROMQL_WORDS.has(word.toLowerCase())) {
      continue;
    }
    // A number's exponent (1e-9) is not a name.
    if (/[0-9.]$/.test(bare.slice(0, match.index))) {
      continue;
    }
    names.push(word);
  }
  return names;
}

/** Every expression of the provisioned dashboard, with the panel it belongs to. */
async function dashboardExprs(): Promise<{ panel: string; expr: string }[]> {
  interface Panel {
    title?: string;
    targets?: { expr?: string }[];
    panels?: Panel[];
  }
  const dashboard = JSON.parse(
    await readFile(join(ROOT, 'deploy', 'grafana', 'dashboards', 'waggle.json'), 'utf8'),
  ) as { panels: Panel[] };
  const out: { panel: string; expr: string }[] = [];
  const walk = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr) {
          out.push({ panel: panel.title ?? '?', expr: target.expr });
        }
      }
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard.panels);
  return out;
}

describe('metrics: every service exposes clean Prometheus text, and the dashboard reads only what exists', () => {
  let hub: TestHub;
  let llm: FakeLlmProvider;
  const scraped = new Map<string, string>();

  before(async () => {
    llm = await FakeLlmProvider.start('openai');
    hub = await TestHub.start({
      metrics: true,
      llm: {
        env: { WAGGLE_LLM_CHAIN: 'openai', WAGGLE_LLM_OPENAI_URL: llm.url, WAGGLE_LLM_OPENAI_API_KEY: 'sk-test' },
      },
      // No repository is watched and no token given: the bot never calls out.
      github: { env: { WAGGLE_GITHUB_API_URL: 'http://127.0.0.1:9' } },
      tracker: {},
      vault: {},
    });
    // Some traffic, so that labelled series and histogram buckets are in the text too.
    await hub.startAgent('worker', { allowCommand: true });
    const created = await hub.api<TaskView & ErrorBody>('POST', '/api/tasks', {
      title: 'metrics',
      kind: 'command',
      input: { program: process.execPath, args: ['-e', ''] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await eventually(
      async () => {
        const task = await hub.api<TaskView>('GET', `/api/tasks/${created.body.id}`);
        assert.equal(task.body.state, 'succeeded');
      },
      { timeoutMs: 30_000, what: 'the task succeeded' },
    );
    const chat = await fetch(`${hub.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.adminToken}` },
      body: JSON.stringify({ model: 'default', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(chat.status, 200, await chat.text());
    const projects = await hub.api('GET', '/api/projects');
    assert.equal(projects.status, 200);
    for (const { service, url } of hub.metricsUrls) {
      const res = await fetch(url);
      assert.equal(res.status, 200, `${service} ${url}`);
      scraped.set(service, await res.text());
    }
  });
  after(async () => {
    await hub?.stop();
    await llm?.stop();
  });

  it('scrapes every hub service', () => {
    assert.deepEqual([...scraped.keys()].sort(), [
      'gateway',
      'github-bot',
      'llm-failover-0',
      'registry',
      'task-router-0',
      'tracker',
      'vault',
    ]);
  });

  it('passes `promtool check metrics` without a warning on every /metrics', () => {
    for (const [service, text] of scraped) {
      const { status, output } = promtool(['check', 'metrics'], text);
      assert.equal(output, '', `${service}: promtool says:\n${output}`);
      assert.equal(status, 0, `${service}: promtool exited ${status}`);
    }
  });

  it("names every service's metrics waggle_<service>_…, with one RPC histogram name per service", () => {
    for (const [service, text] of scraped) {
      const prefix = `waggle_${service.replace(/-\d+$/, '').replaceAll('-', '_')}_`;
      const foreign = [...exposedNames(text)].filter((n) => !n.startsWith(prefix));
      assert.deepEqual(foreign, [], `${service}: names outside ${prefix}`);
      if (service !== 'gateway') {
        assert.match(text, new RegExp(`^# TYPE ${prefix}rpc_duration_seconds histogram$`, 'm'), service);
      }
    }
  });

  it('counts tasks by state at scrape time, and the wait and outcome of the task that ran', () => {
    const text = scraped.get('task-router-0') ?? '';
    for (const state of ['queued', 'assigned', 'running']) {
      assert.match(
        text,
        new RegExp(`^waggle_task_router_tasks\\{state="${state}",service="task-router"\\} 0$`, 'm'),
        state,
      );
    }
    assert.match(text, /^waggle_task_router_queue_wait_seconds_count\{service="task-router"\} 1$/m);
    assert.match(text, /^waggle_task_router_transitions_total\{state="succeeded",service="task-router"\} 1$/m);
  });

  it('reads in the Grafana dashboard only metrics some service exposes', async () => {
    const exposed = new Set([...scraped.values()].flatMap((text) => [...exposedNames(text)]));
    const exprs = await dashboardExprs();
    assert.ok(exprs.length > 30, `only ${exprs.length} expressions in the dashboard`);
    const missing = exprs.flatMap(({ panel, expr }) =>
      metricNamesOf(expr)
        .filter((n) => !exposed.has(n) && !SCRAPE_SERIES.has(n))
        .map((n) => `${panel}: ${n}`),
    );
    assert.deepEqual(missing, []);
    // The check itself sees names where they are.
    assert.deepEqual(
      metricNamesOf(
        'histogram_quantile(0.95, sum by (le, route) (rate(a_b_bucket{status=~"5.."}[$__rate_interval]))) / clamp_min(c, 1e-9)',
      ),
      ['a_b_bucket', 'c'],
    );
  });

  it('passes `promtool check config` on the Prometheus configuration', () => {
    const { status, output } = promtool(['check', 'config', join('deploy', 'prometheus', 'prometheus.yml')]);
    assert.equal(status, 0, output);
    assert.doesNotMatch(output, /WARNING|FAILED/, output);
  });
});
