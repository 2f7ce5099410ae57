import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

import { Client } from 'pg';
import WebSocket from 'ws';

import type { ErrorEventView, ErrorGroupView, IngestKeyCreated, Page, WaggleEvent } from '@waggle/contracts';
import { eventually, runCli, TestHub } from '@waggle/testing';

const run = promisify(execFile);

/**
 * A small app using the real @sentry/node SDK: it throws and captures what argv says, with
 * its own server name and tags, and flushes before it exits.
 */
const SENTRY_APP = (sentry: string) => `
const Sentry = require(${JSON.stringify(sentry)});
const [dsn, machine, what] = process.argv.slice(2);
Sentry.init({ dsn, serverName: machine, release: 'shop@1.2.' + (machine === 'alpha' ? '0' : '1'), environment: 'test',
  defaultIntegrations: false, integrations: [], tracesSampleRate: 0 });
Sentry.setTag('region', machine === 'alpha' ? 'north' : 'south');
function loadCart(id) { throw new TypeError('cart ' + id + ' has no items'); }
function checkout(id) { return loadCart(id); }
async function main() {
  if (what === 'exception') {
    for (const id of [1, 2]) {
      try { checkout(id * 1000 + (machine === 'alpha' ? 1 : 2)); } catch (e) { Sentry.captureException(e); }
    }
  } else if (what === 'message') {
    Sentry.captureMessage('payment provider timed out after 3000 ms', 'warning');
  } else if (what === 'secret') {
    Sentry.setContext('login', { password: 'hunter2-very-secret', user: 'ana' });
    Sentry.captureException(new Error('login failed'), {
      extra: { headers: { Authorization: 'Bearer sk-live-should-never-be-stored-123456' }, apiToken: 'tok-abc-secret' },
    });
  } else if (what === 'other') {
    Sentry.captureException(new RangeError('index out of range'));
  }
  await Sentry.flush(5000);
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
`;

describe('errors: Sentry SDKs send errors to the tracker, grouped, scrubbed, rate limited', () => {
  let dir: string;
  let hub: TestHub;
  let db: Client;
  let app: string;
  let key: IngestKeyCreated;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-errors-'));
    app = join(dir, 'app.cjs');
    await writeFile(app, SENTRY_APP(require.resolve('@sentry/node')));
    hub = await TestHub.start({ tracker: { env: { WAGGLE_TRACKER_ERROR_EVENTS_PER_GROUP: '10' } } });
    db = new Client({ connectionString: hub.databaseUrl });
    await db.connect();
    const project = await hub.api('POST', '/api/projects', { key: 'shop', name: 'Shop' });
    assert.equal(project.status, 201, JSON.stringify(project.body));
    const created = await hub.api<IngestKeyCreated>('POST', '/api/projects/shop/ingest-keys', { name: 'web' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    key = created.body;
  });

  after(async () => {
    await db?.end();
    await hub?.stop();
    if (dir) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const ok = async <T>(method: string, path: string, body?: unknown, status = 200) => {
    const res = await hub.api<T>(method, path, body);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const sdk = (machine: string, what: string) =>
    run(process.execPath, [app, key.dsn, machine, what], { timeout: 30_000 });
  const groups = async (query = '') =>
    (await ok<Page<ErrorGroupView>>('GET', `/api/errors?project=shop${query}`)).items;
  const envelopeUrl = (k = key) => `${hub.url}/api/${k.projectNumber}/envelope/?sentry_key=${k.key}&sentry_version=7`;

  it('the DSN names the hub, the key and the project number; keys list shows no key', async () => {
    assert.equal(key.dsn, `${new URL(hub.url).protocol}//${key.key}@${new URL(hub.url).host}/${key.projectNumber}`);
    const keys = await ok<Page<{ prefix: string; key?: string }>>('GET', '/api/projects/shop/ingest-keys');
    assert.equal(keys.items.length, 1);
    assert.equal(keys.items[0]!.prefix, key.key.slice(0, 8));
    assert.ok(!JSON.stringify(keys).includes(key.key));
  });

  it('the same exception from two machines is one group with both machines, its frames and tags as sent', async () => {
    await sdk('alpha', 'exception');
    await sdk('beta', 'exception');
    const group = await eventually(
      async () => {
        const [g, ...rest] = await groups('&q=cart');
        assert.equal(rest.length, 0, 'one group for the cart error');
        assert.equal(g!.count, 4);
        return g!;
      },
      { what: 'four cart errors in one group' },
    );
    assert.equal(group.type, 'TypeError');
    assert.match(group.title, /^TypeError: cart \d+ has no items$/);
    assert.deepEqual([...group.machines].sort(), ['alpha', 'beta']);
    assert.deepEqual([...group.releases].sort(), ['shop@1.2.0', 'shop@1.2.1']);
    assert.match(group.culprit, /^loadCart /);
    assert.equal(group.status, 'unresolved');
    const events = await ok<Page<ErrorEventView>>('GET', `/api/errors/${group.id}/events`);
    assert.equal(events.items.length, 4);
    const beta = events.items.find((e) => e.machine === 'beta')!;
    assert.equal(beta.tags.region, 'south');
    assert.equal(beta.release, 'shop@1.2.1');
    assert.equal(beta.environment, 'test');
    const frames = beta.exceptions[0]!.frames.map((f) => f.function);
    assert.deepEqual(frames.slice(-2), ['checkout', 'loadCart']);
    assert.equal(beta.exceptions[0]!.frames.at(-1)!.lineno, 7, 'the line of loadCart in the app');
    // Filters
    assert.equal((await groups('&machine=alpha')).length, 1);
    assert.equal((await groups('&machine=gamma')).length, 0);
    assert.equal((await groups('&release=shop@1.2.1')).length, 1);
  });

  it('a message groups by its normalised text, and the store endpoint and plain reports work too', async () => {
    await sdk('alpha', 'message');
    await sdk('beta', 'message');
    const store = await fetch(`${hub.url}/api/${key.projectNumber}/store/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'x-sentry-auth': `Sentry sentry_key=${key.key}, sentry_version=7`,
      },
      body: gzipSync(JSON.stringify({ message: 'payment provider timed out after 4500 ms', level: 'warning' })),
    });
    assert.equal(store.status, 200, await store.clone().text());
    const plain = await fetch(`${hub.url}/api/errors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waggle-ingest-key': key.key },
      body: JSON.stringify({
        type: 'ValueError',
        message: 'bad row 17',
        node: 'gamma',
        source: 'nightly.py',
        stack:
          'Traceback (most recent call last):\n  File "/srv/nightly.py", line 3, in main\n    run()\n  File "/srv/nightly.py", line 9, in run\n    raise ValueError("bad row 17")\nValueError: bad row 17',
      }),
    });
    assert.equal(plain.status, 200, await plain.clone().text());
    await eventually(
      async () => {
        const [g, ...rest] = await groups('&q=payment');
        assert.equal(rest.length, 0);
        assert.equal(g!.count, 3);
        assert.equal(g!.level, 'warning');
        const [py] = await groups('&machine=gamma');
        assert.equal(py!.culprit, 'run (srv/nightly.py)');
      },
      { what: 'the timeouts in one group, the script report in its own' },
    );
  });

  it('merge sticks for future events; a resolved group seen again regresses', async () => {
    await sdk('alpha', 'other');
    const other = await eventually(async () => (await groups('&q=RangeError'))[0]!, { what: 'the RangeError group' });
    const [cart] = await groups('&q=cart');
    const merged = await ok<ErrorGroupView>('POST', `/api/errors/${cart!.id}/merge`, { groups: [other.id] });
    assert.equal(merged.count, 5);
    assert.equal((await hub.api('GET', `/api/errors/${other.id}`)).status, 404);
    const resolved = await ok<ErrorGroupView>('PATCH', `/api/errors/${cart!.id}`, { status: 'resolved' });
    assert.equal(resolved.status, 'resolved');
    await sdk('beta', 'other');
    const after = await eventually(
      async () => {
        const g = await ok<ErrorGroupView>('GET', `/api/errors/${cart!.id}`);
        assert.equal(g.count, 6);
        return g;
      },
      { what: 'the RangeError counted in the merged group' },
    );
    assert.equal(after.status, 'regressed');
    assert.equal((await groups('&q=RangeError')).length, 0, 'no new group for the merged fingerprint');
    // Ignored until 2 more: the next event keeps it ignored, the second unignores it.
    await ok('PATCH', `/api/errors/${cart!.id}`, { status: 'ignored', ignoreCount: 2 });
    await sdk('beta', 'other');
    await eventually(async () => {
      const g = await ok<ErrorGroupView>('GET', `/api/errors/${cart!.id}`);
      assert.equal(g.count, 7);
      assert.equal(g.status, 'ignored');
    });
    await sdk('beta', 'other');
    await eventually(async () => {
      const g = await ok<ErrorGroupView>('GET', `/api/errors/${cart!.id}`);
      assert.equal(g.count, 8);
      assert.equal(g.status, 'unresolved');
    });
  });

  it('secrets are scrubbed before anything is stored', async () => {
    await sdk('alpha', 'secret');
    await eventually(async () => assert.equal((await groups('&q=login')).length, 1), { what: 'the login error' });
    const { rows } = await db.query<{ dump: string }>(
      `SELECT row_to_json(e)::text AS dump FROM "tracker"."error_events" e WHERE "message" = '' AND exceptions::text LIKE '%login failed%'`,
    );
    assert.equal(rows.length, 1);
    const dump = rows[0]!.dump;
    assert.ok(!dump.includes('hunter2'), 'no password stored');
    assert.ok(!dump.includes('sk-live-should-never'), 'no bearer token stored');
    assert.ok(!dump.includes('tok-abc-secret'), 'no token stored');
    assert.ok(dump.includes('[Filtered]'));
    assert.match(dump, /"user": ?"ana"/, 'what is not secret is kept');
  });

  it('bad bodies: 413 over 1 MB, 400 for a malformed envelope, 401 without a key', async () => {
    const big = await fetch(envelopeUrl(), { method: 'POST', body: Buffer.alloc(1024 * 1024 + 10, 'a') });
    assert.equal(big.status, 413);
    const bomb = await fetch(envelopeUrl(), {
      method: 'POST',
      headers: { 'content-encoding': 'gzip' },
      body: gzipSync(Buffer.alloc(3 * 1024 * 1024, ' ')),
    });
    assert.equal(bomb.status, 413);
    const bad = await fetch(envelopeUrl(), {
      method: 'POST',
      body: '{"event_id":"x"}\n{"type":"event","length":500}\n{}',
    });
    assert.equal(bad.status, 400);
    assert.match(
      ((await bad.json()) as { message: string }).message,
      /malformed envelope: item 1 is shorter than its length/,
    );
    const notJson = await fetch(envelopeUrl(), { method: 'POST', body: 'hello' });
    assert.equal(notJson.status, 400);
    const noKey = await fetch(`${hub.url}/api/${key.projectNumber}/envelope/`, { method: 'POST', body: '{}\n' });
    assert.equal(noKey.status, 401);
    const wrongProject = await fetch(envelopeUrl({ ...key, projectNumber: key.projectNumber + 100 }), {
      method: 'POST',
      body: '{}\n',
    });
    assert.equal(wrongProject.status, 401);
  });

  it('a key over its rate gets 429 with Retry-After; a revoked key 401; the rest keeps working', async () => {
    const slow = await ok<IngestKeyCreated>('POST', '/api/projects/shop/ingest-keys', { ratePerMinute: 3 }, 201);
    const send = () =>
      fetch(envelopeUrl(slow), {
        method: 'POST',
        body: `{}\n{"type":"event"}\n${JSON.stringify({ message: 'rate test' })}\n`,
      });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await send();
      statuses.push(res.status);
      retryAfter ??= res.headers.get('retry-after');
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, `Retry-After ${retryAfter}`);
    await sdk('alpha', 'message');
    await eventually(async () => assert.equal((await groups('&q=payment'))[0]!.count, 4), {
      what: 'the other key still works',
    });
    await ok('DELETE', `/api/ingest-keys/${slow.id}`);
    assert.equal((await send()).status, 401);
    // Only an ingest key: it is no API token.
    assert.equal((await hub.api('GET', '/api/errors', undefined, key.key)).status, 401);
  });

  it('roles: viewers read, operators change, admins make keys', async () => {
    const as = async (cookie: string, method: string, path: string, body?: unknown) =>
      (
        await fetch(`${hub.url}${path}`, {
          method,
          headers: { cookie, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
      ).status;
    const viewer = await hub.signIn(await hub.createUser('vic', 'viewer'));
    const operator = await hub.signIn(await hub.createUser('otto', 'operator'));
    const [group] = await groups();
    assert.equal(await as(viewer, 'GET', '/api/errors'), 200);
    assert.equal(await as(viewer, 'PATCH', `/api/errors/${group!.id}`, { status: 'resolved' }), 403);
    assert.equal(await as(operator, 'PATCH', `/api/errors/${group!.id}`, { status: 'resolved' }), 200);
    assert.equal(await as(operator, 'POST', '/api/projects/shop/ingest-keys', {}), 403);
  });

  it('waggle errors: dsn prints a DSN an SDK can use; list, show, resolve, keys', async () => {
    const admin = { WAGGLE_TOKEN: hub.adminToken, WAGGLE_HUB_URL: hub.url };
    const dsn = await runCli(['errors', 'dsn', 'shop', '--name', 'cli'], admin);
    assert.equal(dsn.code, 0, dsn.stderr);
    const printed = dsn.stdout.trim();
    assert.match(printed, /^http:\/\/[0-9a-f]{32}@127\.0\.0\.1:\d+\/\d+$/);
    await run(process.execPath, [app, printed, 'delta', 'other'], { timeout: 30_000 });
    const list = await eventually(
      async () => {
        const r = await runCli(['errors', 'list', '--project', 'shop', '--machine', 'delta', '--json'], admin);
        assert.equal(r.code, 0, r.stderr);
        const items = JSON.parse(r.stdout) as ErrorGroupView[];
        assert.equal(items.length, 1);
        return items;
      },
      { what: 'the group of the CLI-made DSN' },
    );
    const show = await runCli(['errors', 'show', list[0]!.id], admin);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /RangeError: index out of range/);
    const resolved = await runCli(['errors', 'resolve', list[0]!.id], admin);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.equal((await ok<ErrorGroupView>('GET', `/api/errors/${list[0]!.id}`)).status, 'resolved');
    const keys = await runCli(['errors', 'keys', 'list', 'shop'], admin);
    assert.equal(keys.code, 0, keys.stderr);
    assert.match(keys.stdout, /cli/);
    assert.ok(!keys.stdout.includes(printed.slice(7, 39)), 'no whole key in the list');
  });

  it('a burst: counted in full, announced on /ws, the group keeps only its latest events', async () => {
    const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/ws`, {
      headers: { authorization: `Bearer ${hub.adminToken}` },
    });
    const seen: WaggleEvent[] = [];
    ws.on('message', (raw: Buffer) => {
      const msg = JSON.parse(raw.toString('utf8')) as { type: string; event?: WaggleEvent };
      if (msg.type === 'event' && msg.event?.type === 'error.reported') {
        seen.push(msg.event);
      }
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    try {
      const burst = Array.from(
        { length: 30 },
        (_, i) => `{}\n{"type":"event"}\n${JSON.stringify({ message: `queue ${i} is full` })}\n`,
      );
      const statuses = await Promise.all(
        burst.map((body) => fetch(envelopeUrl(), { method: 'POST', body }).then((r) => r.status)),
      );
      assert.deepEqual(new Set(statuses), new Set([200]));
      const [group] = await groups('&q=queue');
      assert.equal(group!.count, 30, 'answered after the batch committed: the count is there at once');
      await eventually(
        async () =>
          assert.equal(
            (await ok<Page<ErrorEventView>>('GET', `/api/errors/${group!.id}/events?limit=100`)).items.length,
            10,
          ),
        { what: 'the group trimmed to its latest 10 events' },
      );
      await eventually(
        () => {
          const mine = seen.filter((e) => (e.data as { groupId: string }).groupId === group!.id);
          assert.ok(mine.some((e) => (e.data as { newGroup: boolean }).newGroup));
          assert.ok(mine.length < 30, `announced at most once a second per group, not per event (${mine.length})`);
        },
        { what: 'error.reported on /ws' },
      );
    } finally {
      ws.close();
    }
  });

  it("a node-agent reports its tasks' crashes as errors of the hub's own project, with the machine", async () => {
    await hub.startAgent('crashy', { allowCommand: true });
    const script =
      "function parseConfig() { throw new SyntaxError('bad config at line ' + Date.now()); } parseConfig();";
    for (let i = 0; i < 2; i++) {
      const task = await ok<{ id: string }>(
        'POST',
        '/api/tasks',
        {
          title: 'crash',
          kind: 'command',
          input: { program: process.execPath, args: ['-e', script] },
          target: 'crashy',
        },
        201,
      );
      await eventually(
        async () => assert.equal((await ok<{ state: string }>('GET', `/api/tasks/${task.id}`)).state, 'failed'),
        { what: 'the task failed' },
      );
    }
    const group = await eventually(
      async () => {
        const [g, ...rest] = (await ok<Page<ErrorGroupView>>('GET', '/api/errors?project=waggle-hub')).items;
        assert.equal(rest.length, 0);
        assert.equal(g!.count, 2);
        return g!;
      },
      { what: "the crash in the hub's project" },
    );
    assert.equal(group.type, 'SyntaxError');
    assert.deepEqual(group.machines, ['crashy']);
    assert.match(group.culprit, /^parseConfig /);
    const [latest] = (await ok<Page<ErrorEventView>>('GET', `/api/errors/${group.id}/events?limit=1`)).items;
    assert.equal(latest!.tags.machine, 'crashy');
    assert.equal(latest!.tags.task_kind, 'command');
  });

  it('lists page by keyset: every group and key once, in order', async () => {
    const all = await groups('&limit=500');
    assert.ok(all.length >= 4);
    for (const sort of ['last_seen', 'count', 'first_seen'] as const) {
      const seen: ErrorGroupView[] = [];
      let cursor: string | undefined;
      do {
        const page = await ok<Page<ErrorGroupView>>(
          'GET',
          `/api/errors?project=shop&sort=${sort}&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        seen.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      assert.equal(new Set(seen.map((g) => g.id)).size, all.length, sort);
      const keyOf = (g: ErrorGroupView) =>
        sort === 'count' ? g.count : Date.parse(sort === 'last_seen' ? g.lastSeen : g.firstSeen);
      assert.deepEqual(
        seen.map(keyOf),
        [...seen.map(keyOf)].sort((a, b) => b - a),
        sort,
      );
    }
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await ok<Page<{ id: string }>>(
        'GET',
        `/api/projects/shop/ingest-keys?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      keys.push(...page.items.map((k) => k.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.equal(keys.length, 3);
    assert.equal(new Set(keys).size, 3);
    assert.equal((await hub.api('GET', '/api/errors?cursor=nonsense')).status, 400);
  });
});
