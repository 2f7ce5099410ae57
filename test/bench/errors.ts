import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';

import { Client } from 'pg';

import type { IngestKeyCreated } from '@waggle/contracts';
import { TestHub } from '@waggle/testing';

import type { BenchConfig } from './bench.config';
import { runConcurrent } from './load';
import { rssBytes } from './proc';
import type { Section } from './stats';
import { BENCH_ENV, summarize } from './stats';

/** Distinct errors the events spread over (each its own group). */
const KINDS = 50;
const FRAMES = 15;

/** A Sentry event as @sentry/node sends one: an exception with its frames, tags, request, contexts, breadcrumbs. */
function sentryEvent(i: number): Record<string, unknown> {
  const kind = i % KINDS;
  return {
    event_id: randomBytes(16).toString('hex'),
    timestamp: Date.now() / 1000,
    platform: 'node',
    level: 'error',
    server_name: `machine-${i % 7}`,
    release: `app@1.${i % 3}.0`,
    environment: 'production',
    tags: { region: 'eu', route: `/r/${kind}` },
    exception: {
      values: [
        {
          type: `Error${kind}`,
          value: `failed on record ${i} after ${i % 1000} ms`,
          stacktrace: {
            frames: Array.from({ length: FRAMES }, (_, f) => ({
              filename: `/srv/app/${f < 5 ? 'node_modules/lib' : 'src'}/m${f}.js`,
              module: f < 5 ? `lib.m${f}` : `src.m${f}`,
              function: `fn${kind}_${f}`,
              lineno: 10 + f,
              colno: 5,
              in_app: f >= 5,
            })),
          },
        },
      ],
    },
    request: { url: `https://app.example/r/${kind}?page=2`, method: 'GET', headers: { 'User-Agent': 'x' } },
    contexts: { runtime: { name: 'node', version: 'v24' }, os: { name: 'Linux' } },
    breadcrumbs: { values: Array.from({ length: 5 }, (_, b) => ({ category: 'http', message: `GET /x/${b}` })) },
    sdk: { name: 'sentry.javascript.node', version: '10.27.0' },
  };
}

const envelopeOf = (event: Record<string, unknown>) => {
  const payload = JSON.stringify(event);
  return Buffer.from(
    `${JSON.stringify({ event_id: event.event_id, sent_at: new Date().toISOString() })}\n${JSON.stringify({ type: 'event', length: Buffer.byteLength(payload) })}\n${payload}\n`,
  );
};

function post(agent: Agent, url: URL, path: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, method: 'POST', path, headers: { 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Ingest through Sentry's envelope endpoint (HTTP → gateway → NATS → tracker: key, rate,
 * scrub, fingerprint, batched upsert of groups and insert of events) beside the same events
 * inserted by hand with multi-row INSERTs into a bare table of the same Postgres server.
 */
export async function benchErrors(cfg: BenchConfig): Promise<Section> {
  const total = cfg.WAGGLE_BENCH_ERROR_EVENTS;
  const hub = await TestHub.start({
    env: BENCH_ENV,
    tracker: {
      env: {
        WAGGLE_TRACKER_INGEST_RATE_PER_MINUTE: '100000000',
        // Every event stored (no spike protection): the heaviest case.
        WAGGLE_TRACKER_ERROR_SPIKE_PER_MINUTE: '100000000',
      },
    },
  });
  const db = new Client({ connectionString: hub.databaseUrl });
  await db.connect();
  const agent = new Agent({ keepAlive: true, maxSockets: cfg.WAGGLE_BENCH_CONCURRENCY });
  try {
    await hub.api('POST', '/api/projects', { key: 'bench', name: 'Bench' });
    const key = (await hub.api<IngestKeyCreated>('POST', '/api/projects/bench/ingest-keys', {})).body;
    const url = new URL(hub.url);
    const path = `/api/${key.projectNumber}/envelope/?sentry_key=${key.key}&sentry_version=7`;
    await db.query(`CREATE TABLE "public"."bench_events" (
      "seq" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "id" text NOT NULL, "fingerprint" text NOT NULL,
      "received_at" timestamptz NOT NULL DEFAULT now(), "machine" text, "release" text, "message" text NOT NULL,
      "exceptions" jsonb NOT NULL, "tags" jsonb NOT NULL, "context" jsonb NOT NULL)`);

    const waggle: number[] = [];
    const baseline: number[] = [];
    const rss: number[] = [];
    const pid = hub.tracker?.pid;
    for (let rep = 0; rep < cfg.WAGGLE_BENCH_REPS; rep++) {
      const events = Array.from({ length: total }, (_, i) => sentryEvent(rep * total + i));
      const bodies = events.map(envelopeOf);
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, (pid && rssBytes(pid)) || 0)), 100);
      const seconds = await runConcurrent(cfg.WAGGLE_BENCH_CONCURRENCY, total, async (i) => {
        const status = await post(agent, url, path, bodies[i]!);
        if (status !== 200) {
          throw new Error(`envelope ${i}: ${status}`);
        }
      });
      clearInterval(sampler);
      waggle.push(total / seconds);
      rss.push(peak / 2 ** 20);

      // By hand: the same events, 500 rows per INSERT, 4 connections.
      const clients = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const c = new Client({ connectionString: hub.databaseUrl });
          await c.connect();
          return c;
        }),
      );
      const chunks: Record<string, unknown>[][] = [];
      for (let i = 0; i < events.length; i += 500) {chunks.push(events.slice(i, i + 500));}
      const started = performance.now();
      let next = 0;
      await Promise.all(
        clients.map(async (c) => {
          for (let i = next++; i < chunks.length; i = next++) {
            const chunk = chunks[i]!;
            await c.query(
              `INSERT INTO "public"."bench_events" ("id", "fingerprint", "machine", "release", "message", "exceptions", "tags", "context")
               SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::jsonb[])`,
              [
                chunk.map((e) => e.event_id),
                chunk.map(() => randomUUID()),
                chunk.map((e) => e.server_name),
                chunk.map((e) => e.release),
                chunk.map(() => ''),
                chunk.map((e) => JSON.stringify(e.exception)),
                chunk.map((e) => JSON.stringify(e.tags)),
                chunk.map((e) => JSON.stringify({ request: e.request, contexts: e.contexts, breadcrumbs: e.breadcrumbs })),
              ],
            );
          }
        }),
      );
      baseline.push(total / ((performance.now() - started) / 1000));
      await Promise.all(clients.map((c) => c.end()));
    }
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM "tracker"."error_events"');
    return {
      title: `Errors: ${total} Sentry events per repetition over ${KINDS} groups, ${cfg.WAGGLE_BENCH_CONCURRENCY} HTTP clients, one event per envelope`,
      figures: [
        {
          figure: 'ingest through the envelope endpoint',
          unit: 'events/s',
          waggle: summarize(waggle),
          baseline: summarize(baseline),
          baselineName: 'the same events, multi-row INSERTs (500 a statement, 4 connections) into a bare table',
        },
        {
          figure: 'tracker RSS, peak while ingesting',
          unit: 'MiB',
          waggle: summarize(rss),
          baselineName: '—',
        },
      ],
      counts: [],
      notes: [
        `${rows[0]?.n ?? '?'} events stored in all (each group keeps its latest 100); spike protection off, so every event is written.`,
        'Each request is answered after the batch holding its event commits (group commit: requests arriving while a batch is written share the next).',
      ],
    };
  } finally {
    agent.destroy();
    await db.end();
    await hub.stop();
  }
}
