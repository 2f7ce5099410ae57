import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client } from 'pg';

import type {
  ActivityView,
  CommentView,
  ErrorBody,
  HistoryEntryView,
  MilestoneView,
  Page,
  ProjectView,
  WorkItemView,
} from '@waggle/contracts';
import { eventually, runCli, TestHub } from '@waggle/testing';

describe('tracker: projects, milestones, features and bugs through the gateway', () => {
  let hub: TestHub;

  before(async () => {
    hub = await TestHub.start({
      tracker: { env: { WAGGLE_TRACKER_ACTIVITY_PRUNE_INTERVAL_MS: '1000' } },
      taskRouters: 0,
    });
  });

  after(async () => {
    await hub?.stop();
  });

  const ok = async <T>(method: string, path: string, body?: unknown, status = method === 'POST' ? 201 : 200) => {
    const res = await hub.api<T>(method, path, body);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const refused = async (method: string, path: string, body: unknown, status: number) => {
    const res = await hub.api<ErrorBody>(method, path, body);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };

  it('creates, finds, searches, changes and deletes projects', async () => {
    const api = await ok<ProjectView>('POST', '/api/projects', {
      name: 'Public API',
      description: 'The REST API everyone uses',
      repository: 'https://github.com/acme/api.git',
      placement: { capabilities: ['claude'] },
    });
    assert.equal(api.key, 'public-api');
    assert.equal(api.defaultBranch, 'main');
    assert.deepEqual(api.placement, { capabilities: ['claude'] });
    const again = await ok<ProjectView>('POST', '/api/projects', { name: 'Public API' });
    assert.equal(again.key, 'public-api-2', 'a taken key is numbered');
    await ok('POST', '/api/projects', { key: 'web', name: 'Web', repository: 'acme/web' });
    const taken = await refused('POST', '/api/projects', { key: 'web', name: 'Another web' }, 409);
    assert.match(taken.message, /key "web"/);

    assert.equal((await ok<ProjectView>('GET', '/api/projects/public-api')).id, api.id);
    assert.equal((await ok<ProjectView>('GET', `/api/projects/${api.id}`)).key, 'public-api');
    await refused('GET', '/api/projects/nope', undefined, 404);
    await refused('GET', '/api/projects/Not%20A%20Key', undefined, 400);

    const found = await ok<Page<ProjectView>>('GET', '/api/projects?q=everyone');
    assert.deepEqual(
      found.items.map((p) => p.key),
      ['public-api'],
    );
    const first = await ok<Page<ProjectView>>('GET', '/api/projects?limit=2');
    assert.deepEqual(
      first.items.map((p) => p.key),
      ['public-api', 'public-api-2'],
    );
    assert.ok(first.nextCursor);
    const second = await ok<Page<ProjectView>>('GET', `/api/projects?limit=2&cursor=${first.nextCursor}`);
    assert.deepEqual(
      second.items.map((p) => p.key),
      ['web'],
    );
    assert.equal(second.nextCursor, undefined);

    const changed = await ok<ProjectView>('PATCH', '/api/projects/public-api', {
      defaultBranch: 'develop',
      sourcePath: 'api',
    });
    assert.equal(changed.defaultBranch, 'develop');
    assert.equal(changed.sourcePath, 'api');
    const bad = await refused('PATCH', '/api/projects/public-api', { repository: 'not a remote' }, 400);
    assert.match(JSON.stringify(bad.details), /repository must be owner\/name or a git remote URL/);
    await refused('POST', '/api/projects', { name: 'x', placement: { cli: 'vim' } }, 400);

    assert.deepEqual(await ok('DELETE', '/api/projects/public-api-2'), { deleted: true });
    await refused('GET', '/api/projects/public-api-2', undefined, 404);
  });

  it('keeps milestones in order, with the progress of their items', async () => {
    const m1 = await ok<MilestoneView>('POST', '/api/projects/web/milestones', {
      title: 'Beta',
      targetDate: '2026-12-01',
    });
    const m2 = await ok<MilestoneView>('POST', '/api/projects/web/milestones', { title: 'GA' });
    const m0 = await ok<MilestoneView>('POST', '/api/projects/web/milestones', { title: 'Alpha', position: 0 });
    const order = async () =>
      (await ok<Page<MilestoneView>>('GET', '/api/projects/web/milestones')).items.map(
        (m) => `${m.position}:${m.title}`,
      );
    assert.deepEqual(await order(), ['0:Alpha', '1:Beta', '2:GA']);
    await ok('PATCH', `/api/milestones/${m2.id}`, { position: 0 });
    assert.deepEqual(await order(), ['0:GA', '1:Alpha', '2:Beta']);
    await refused('PATCH', `/api/milestones/${m1.id}`, { targetDate: '1 Dec' }, 400);

    const one = await ok<WorkItemView>('POST', '/api/projects/web/features', { title: 'Login', milestoneId: m1.id });
    await ok<WorkItemView>('POST', '/api/projects/web/bugs', {
      title: 'Crash',
      milestoneId: m1.id,
      status: 'wont_fix',
    });
    await ok<WorkItemView>('POST', '/api/projects/web/features', {
      title: 'Logout',
      milestoneId: m1.id,
      status: 'done',
    });
    await ok('PATCH', `/api/features/${one.id}`, { status: 'planned' });
    const beta = await ok<MilestoneView>('GET', `/api/milestones/${m1.id}`);
    assert.deepEqual(beta.progress, { total: 3, closed: 2, percent: 66 });
    assert.equal(beta.targetDate, '2026-12-01');

    await ok('DELETE', `/api/milestones/${m0.id}`);
    assert.deepEqual(await order(), ['0:GA', '1:Beta']);
  });

  it('moves features and bugs only along their workflows, and refuses bad input with the reason', async () => {
    const other = await ok<ProjectView>('POST', '/api/projects', { key: 'other', name: 'Other' });
    const foreign = await ok<MilestoneView>('POST', `/api/projects/${other.key}/milestones`, { title: 'Theirs' });
    const feature = await ok<WorkItemView>('POST', '/api/projects/web/features', {
      title: 'Dark mode',
      spec: '# Dark mode\nA toggle in the header.',
      priority: 'high',
    });
    assert.equal(feature.status, 'proposed');
    assert.match(feature.ref, /^feature-\d+$/);

    const unknown = await refused('PATCH', `/api/features/${feature.id}`, { status: 'shipped' }, 400);
    assert.match(JSON.stringify(unknown.details), /status must be one of the following values: proposed, planned/);
    const skipped = await refused('PATCH', `/api/features/${feature.id}`, { status: 'done' }, 409);
    assert.match(skipped.message, /cannot move from proposed to done/);
    const bugStatus = await refused('PATCH', `/api/features/${feature.id}`, { status: 'fixed' }, 400);
    assert.match(JSON.stringify(bugStatus.details), /status must be one of the following values: proposed, planned/);
    const theirs = await refused('PATCH', `/api/features/${feature.id}`, { milestoneId: foreign.id }, 400);
    assert.match(theirs.message, /belongs to another project/);
    await refused('POST', '/api/projects/web/features', { title: 'x', milestoneId: foreign.id }, 400);
    await refused('POST', '/api/projects/web/features', { title: '' }, 400);
    await refused('POST', '/api/projects/web/features', { title: 'x', spec: 'y'.repeat(100_001) }, 400);
    await refused('GET', `/api/features/not-a-uuid`, undefined, 400);

    await ok('PATCH', `/api/features/${feature.id}`, { status: 'planned', title: 'Dark theme' });
    await ok('PATCH', `/api/features/${feature.id}`, { status: 'in_progress' });
    const bug = await ok<WorkItemView>('POST', '/api/projects/web/bugs', {
      title: 'Header overlaps',
      steps: '1. open on a phone',
      environment: 'iOS 18',
      severity: 'minor',
    });
    assert.equal(bug.status, 'open');
    assert.equal(bug.severity, 'minor');
    await refused('PATCH', `/api/bugs/${bug.id}`, { status: 'verified' }, 409);
    await ok('PATCH', `/api/bugs/${bug.id}`, { status: 'triaged' });
    // A feature's id is not a bug.
    await refused('GET', `/api/bugs/${feature.id}`, undefined, 404);

    await ok<CommentView>('POST', `/api/features/${feature.id}/comments`, { body: 'Use the system setting too.' });
    const comments = await ok<Page<CommentView>>('GET', `/api/features/${feature.id}/comments`);
    assert.deepEqual(
      comments.items.map((c) => c.body),
      ['Use the system setting too.'],
    );
    const history = await ok<Page<HistoryEntryView>>('GET', `/api/features/${feature.id}/history`);
    assert.deepEqual(
      history.items.map((h) => [h.field, h.from, h.to]),
      [
        ['created', null, 'proposed'],
        ['title', 'Dark mode', 'Dark theme'],
        ['status', 'proposed', 'planned'],
        ['status', 'planned', 'in_progress'],
        ['comment', null, comments.items[0]!.id],
      ],
    );
    assert.ok(history.items.every((h) => h.actor.length > 0 && !Number.isNaN(Date.parse(h.at))));
  });

  it('filters, searches and paginates items', async () => {
    for (let i = 0; i < 5; i++) {
      await ok('POST', '/api/projects/web/bugs', { title: `Paging bug ${i}`, severity: i % 2 ? 'critical' : 'minor' });
    }
    const critical = await ok<Page<WorkItemView>>('GET', '/api/projects/web/bugs?severity=critical&q=paging');
    assert.deepEqual(
      critical.items.map((b) => b.title),
      ['Paging bug 3', 'Paging bug 1'],
    );
    const pages: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await ok<Page<WorkItemView>>(
        'GET',
        `/api/projects/web/bugs?q=paging&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      pages.push(page.items.map((b) => b.title.slice(-1)).join(''));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(pages, ['43', '21', '0']);
    const literal = await ok<Page<WorkItemView>>('GET', '/api/projects/web/bugs?q=%25');
    assert.equal(literal.items.length, 0, 'a % in a search is a literal');
    await refused('GET', '/api/projects/web/bugs?status=shipped', undefined, 400);
    await refused('GET', '/api/projects/web/bugs?cursor=bm9wZQ', undefined, 400);
    await refused('GET', '/api/projects/web/features?limit=501', undefined, 400);
  });

  it('needs a token', async () => {
    const res = await hub.api('GET', '/api/projects', undefined, null);
    assert.equal(res.status, 401);
  });

  it('works from the CLI', async () => {
    const env = { WAGGLE_HUB_URL: hub.url, WAGGLE_TOKEN: hub.adminToken, WAGGLE_HOME: hub.dir };
    const created = await runCli(
      ['projects', 'create', 'CLI demo', '--repository', 'acme/cli-demo', '--description', 'made by the CLI'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /cli-demo/);
    const listed = await runCli(['projects', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /cli-demo/);
    assert.match(listed.stdout, /acme\/cli-demo/);
    const feature = await runCli(
      ['projects', 'feature', 'cli-demo', 'A feature from the CLI', '--spec', 'Do it.'],
      env,
    );
    assert.equal(feature.code, 0, feature.stderr);
    const items = await runCli(['projects', 'items', 'cli-demo'], env);
    assert.match(items.stdout, /A feature from the CLI/);
    assert.match(items.stdout, /proposed/);
    const removed = await runCli(['projects', 'delete', 'cli-demo'], env);
    assert.equal(removed.code, 0, removed.stderr);
  });

  it('logs every change made through the API: who, what, when, from where; filters and pages; keeps 90 days', async () => {
    const who = (await ok<{ name: string }>('GET', '/api/auth/whoami')).name;
    const since = new Date().toISOString();
    const made = await ok<ProjectView>('POST', '/api/projects', { key: 'logged', name: 'Logged' });
    await refused('POST', '/api/projects', { key: 'logged', name: 'Again' }, 409);
    await ok('PATCH', '/api/projects/logged', { description: 'changed' });
    await ok('GET', '/api/projects/logged');
    await ok('DELETE', '/api/projects/logged');
    const recent = await eventually(
      async () => {
        const page = await ok<Page<ActivityView>>('GET', `/api/activity?since=${encodeURIComponent(since)}`);
        assert.equal(page.items.length, 4, JSON.stringify(page.items));
        return page.items;
      },
      { what: 'four changes in the activity log' },
    );
    assert.deepEqual(
      recent.map((a) => [a.method, a.route, a.path, a.status]),
      [
        ['DELETE', '/api/projects/:project', '/api/projects/logged', 200],
        ['PATCH', '/api/projects/:project', '/api/projects/logged', 200],
        ['POST', '/api/projects', '/api/projects', 409],
        ['POST', '/api/projects', '/api/projects', 201],
      ],
    );
    for (const entry of recent) {
      assert.deepEqual(entry.actor.kind, 'token');
      assert.equal(entry.actor.name, who);
      assert.equal(entry.address, '127.0.0.1');
      assert.ok(entry.requestId);
      assert.ok(Date.parse(entry.at) >= Date.parse(since));
    }
    assert.ok(!JSON.stringify(recent).includes(hub.adminToken), 'no credential in the log');
    assert.ok(made.id);

    const failed = await ok<Page<ActivityView>>(
      'GET',
      `/api/activity?outcome=failed&path=/api/projects&since=${encodeURIComponent(since)}`,
    );
    assert.deepEqual(
      failed.items.map((a) => a.status),
      [409],
    );
    const byActor = await ok<Page<ActivityView>>(
      'GET',
      `/api/activity?actor=${encodeURIComponent(who)}&method=PATCH&limit=1`,
    );
    assert.equal(byActor.items[0]?.method, 'PATCH');
    const first = await ok<Page<ActivityView>>('GET', '/api/activity?limit=2');
    const second = await ok<Page<ActivityView>>('GET', `/api/activity?limit=2&cursor=${first.nextCursor}`);
    assert.equal(first.items.length, 2);
    assert.ok(second.items.every((a) => !first.items.some((b) => b.id === a.id)));
    await refused('GET', '/api/activity?since=yesterday', undefined, 400);
    await refused('GET', '/api/activity?outcome=maybe', undefined, 400);

    // Past the retention (90 days) a change is deleted; one inside it is kept.
    const db = new Client({ connectionString: hub.databaseUrl });
    await db.connect();
    try {
      const old = (days: number, id: string) =>
        db.query(
          `INSERT INTO "tracker"."activity" ("id", "at", "actor_kind", "actor_name", "address", "method", "route", "path", "status", "request_id")
           VALUES ($1, now() - ($2::int * interval '1 day'), 'token', 'old', '10.0.0.1', 'POST', '/api/projects', '/api/projects', 201, 'r')`,
          [id, days],
        );
      await old(91, '00000000-0000-4000-8000-000000000091');
      await old(89, '00000000-0000-4000-8000-000000000089');
      await eventually(
        async () => {
          const left = await db.query<{ id: string }>(
            `SELECT "id" FROM "tracker"."activity" WHERE "actor_name" = 'old'`,
          );
          assert.deepEqual(
            left.rows.map((r) => r.id),
            ['00000000-0000-4000-8000-000000000089'],
          );
        },
        { what: 'the 91-day-old change pruned' },
      );
    } finally {
      await db.end();
    }
  });
});
