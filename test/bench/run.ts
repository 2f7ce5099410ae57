import 'reflect-metadata';

import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';

import { Client } from 'pg';

import { loadConfigOrExit } from '@waggle/config';
import { testDatabaseServer } from '@waggle/testing';

import { BenchConfig } from './bench.config';
import { benchErrors } from './errors';
import { benchGithub } from './github';
import { benchLlm } from './llm';
import { benchFleet } from './messages';
import { benchStartup } from './startup';
import type { Section } from './stats';
import { fromRow, printSection } from './stats';
import { benchTasks } from './tasks';

/** Machine-readable results of the last run (git-ignored), to diff runs. */
const RESULTS = join(__dirname, '..', '..', 'bench', 'results', 'latest.json');

async function postgresVersion(): Promise<string> {
  const client = new Client({ connectionString: testDatabaseServer() });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?';
  } finally {
    await client.end();
  }
}

/**
 * `npm run bench`: every figure of issue 12 beside a baseline measured in the same run (raw
 * JetStream, raw Postgres, bare Fastify, a bare Node process, BullMQ on Redis), repeated, with
 * per-operation counts (Postgres commits and rows, NATS messages, CPU per process). Nothing
 * here is a pass/fail test. Sizes come from WAGGLE_BENCH_* (bench.config.ts).
 */
async function main() {
  const cfg = loadConfigOrExit(BenchConfig);
  const started = new Date();
  const host = {
    node: process.version,
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    postgres: await postgresVersion(),
    loadAverageAtStart: loadavg()[0],
  };
  process.stdout.write(
    `Waggle bench: ${host.cpus} CPUs, Node ${host.node}, Postgres ${host.postgres}, load average ${host.loadAverageAtStart?.toFixed(2)} at start; ` +
      `sections ${cfg.WAGGLE_BENCH_SECTIONS.join(', ')}\n`,
  );
  const sections: Section[] = [];
  const save = async () => {
    await mkdir(dirname(RESULTS), { recursive: true });
    await writeFile(
      RESULTS,
      `${JSON.stringify(
        {
          startedAt: started.toISOString(),
          seconds: (Date.now() - started.getTime()) / 1000,
          host: { ...host, loadAverageAtEnd: loadavg()[0] },
          config: cfg,
          sections,
        },
        null,
        2,
      )}\n`,
    );
  };
  const run = async (name: string, section: () => Promise<Section>) => {
    if (!cfg.WAGGLE_BENCH_SECTIONS.includes(name)) {
      return;
    }
    const t0 = performance.now();
    const result = await section();
    result.notes.push(`section took ${Math.round((performance.now() - t0) / 1000)} s.`);
    printSection(result);
    sections.push(result);
    await save();
  };

  await run('messages', () => benchFleet(cfg));
  await run('tasks', () => benchTasks(cfg));
  await run('startup', () => benchStartup(cfg));
  await run('llm', async () => ({
    title: 'LLM gateway: a local fake provider speaking the Anthropic and Ollama wire formats (measured once)',
    figures: (await benchLlm()).map(fromRow),
    counts: [],
    notes: [
      'via gateway = HTTP → gateway → NATS → llm-failover (breaker read, ledger write) → provider and back; no retries, so failover time is the failure itself plus the second call.',
    ],
  }));
  await run('github', async () => ({
    title: 'GitHub: a local fake GitHub with bare repositories, a fake `claude` that edits one file (measured once)',
    figures: (await benchGithub()).map(fromRow),
    counts: [],
    notes: [
      'issue → pull request is webhook → task → claim → clone, agent, commit, push, ls-remote, PR → the bot checks the branch and posts the link, labels and comments (writes not spaced); by hand is the git and PR work alone.',
    ],
  }));
  await run('errors', () => benchErrors(cfg));
  process.stdout.write(
    `\nbench took ${Math.round((Date.now() - started.getTime()) / 1000)} s; load average ${loadavg()[0]?.toFixed(2)} at the end; results in ${RESULTS}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
