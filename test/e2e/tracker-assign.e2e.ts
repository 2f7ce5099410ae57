import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { childEnvironment } from '@waggle/config';
import type { ErrorBody, HistoryEntryView, Page, TaskView, WorkItemView } from '@waggle/contracts';
import { eventually, FakeGithub, installFakeClaude, present, TestHub } from '@waggle/testing';

const MACHINE_TOKEN = 'ghp_machineMACHINEmachineMACHINE0002';
const BOT_TOKEN = 'ghp_botBOTbotBOTbotBOTbotBOTbotBOT0001';
const OWNER = 'acme';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** Holds the fake agent while $FAKE_HOLD_FILE exists, then runs the real fake: a task the test can keep running. */
const HOLDING_CLAUDE = (real: string) => `#!/bin/sh
if [ "$1" != "--version" ]; then
  while [ -n "$FAKE_HOLD_FILE" ] && [ -e "$FAKE_HOLD_FILE" ]; do sleep 0.05; done
fi
exec "${real}" "$@"
`;

describe('tracker: a feature or bug handed to an agent ends in review with its pull request', () => {
  let dir: string;
  let fake: FakeGithub;
  let hub: TestHub;
  const holdFile = () => join(dir, 'hold');
  const failFile = () => join(dir, 'claude-fails');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-tracker-'));
    fake = await FakeGithub.start({ dir: join(dir, 'remote') });
    fake.addUser('soda-bot', MACHINE_TOKEN);
    fake.addUser('waggle-bot', BOT_TOKEN);
    fake.addUser('alice', 'ghp_aliceALICEaliceALICEaliceALICE0003');
    await fake.createRepo(OWNER, 'widgets', {
      collaborators: ['soda-bot', 'waggle-bot'],
      files: { 'README.md': '# widgets\n' },
    });
    const realBin = join(dir, 'real-bin');
    await installFakeClaude(realBin);
    const bin = join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'claude'), HOLDING_CLAUDE(join(realBin, 'claude')));
    await chmod(join(bin, 'claude'), 0o755);
    hub = await TestHub.start({
      tracker: { env: { WAGGLE_TRACKER_MAX_ATTEMPTS: '1' } },
      github: {
        env: {
          GITHUB_TOKEN: BOT_TOKEN,
          WAGGLE_GITHUB_API_URL: fake.url,
          WAGGLE_GITHUB_POLL_INTERVAL_MS: '300',
          WAGGLE_GITHUB_MAX_ATTEMPTS: '1',
        },
      },
    });
    await hub.startAgent('soda-yeti', {
      env: {
        PATH: [bin, childEnvironment().PATH].join(delimiter),
        WAGGLE_AGENT_GITHUB_TOKEN: MACHINE_TOKEN,
        WAGGLE_AGENT_GITHUB_API_URL: fake.url,
        WAGGLE_AGENT_GITHUB_WRITE_INTERVAL_MS: '0',
        WAGGLE_AGENT_GIT_NAME: 'Soda Yeti',
        WAGGLE_AGENT_GIT_EMAIL: 'soda@example.test',
        WAGGLE_AGENT_WORK_DIR: join(dir, 'work'),
        FAKE_HOLD_FILE: holdFile(),
        FAKE_CLAUDE_FAIL_FILE: failFile(),
      },
    });
    await eventually(
      async () => {
        const m = await hub.api<{ capabilityTags: string[] }>('GET', '/api/machines/soda-yeti');
        assert.ok(m.body.capabilityTags.includes('github') && m.body.capabilityTags.includes('claude'));
      },
      { what: 'soda-yeti offers github and claude' },
    );
    const project = await hub.api('POST', '/api/projects', {
      key: 'widgets',
      name: 'Widgets',
      description: 'Makes widgets.',
      repository: `${OWNER}/widgets`,
      placement: { cli: 'claude' },
    });
    assert.equal(project.status, 201, JSON.stringify(project.body));
  });

  after(async () => {
    await hub?.stop();
    await fake?.stop();
    if (dir) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const ok = async <T>(method: string, path: string, body?: unknown, status = method === 'POST' ? 201 : 200) => {
    const res = await hub.api<T>(method, path, body);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const history = async (path: string) =>
    (await ok<Page<HistoryEntryView>>('GET', `${path}/history?limit=500`)).items.map((h) => ({
      step: `${h.field}:${h.from ?? ''}→${h.to ?? ''}`,
      actor: h.actor,
    }));
  /** `wanted` appear in `steps` in this order (others may sit between them). */
  const inOrder = (steps: string[], wanted: RegExp[]) => {
    let at = 0;
    for (const step of steps) {
      if (at < wanted.length && wanted[at]!.test(step)) {
        at++;
      }
    }
    assert.equal(at, wanted.length, `missing ${String(wanted[at])} in:\n${steps.join('\n')}`);
  };
  const waitItem = (path: string, check: (item: WorkItemView) => void, what: string) =>
    eventually(
      async () => {
        const item = await ok<WorkItemView>('GET', path);
        check(item);
        return item;
      },
      { timeoutMs: 60_000, what },
    );

  it('assigns a feature: in progress with its task, a second assign refused with 409, then review with the pull request', async () => {
    const feature = await ok<WorkItemView>('POST', '/api/projects/widgets/features', {
      title: 'Add a changelog',
      spec: '# Changelog\nKeep CHANGES.md up to date.',
      priority: 'high',
    });
    const path = `/api/features/${feature.id}`;
    await ok('POST', `${path}/comments`, { body: 'One line per change, please.' });

    await writeFile(holdFile(), 'hold');
    const assigned = await ok<WorkItemView>('POST', `${path}/assign`, { target: 'soda-yeti' }, 200);
    assert.equal(assigned.status, 'in_progress');
    const taskId = present(assigned.taskId, 'the task of the assign');

    const task = await eventually(
      async () => {
        const t = await ok<TaskView>('GET', `/api/tasks/${taskId}`);
        assert.equal(t.state, 'running');
        return t;
      },
      { what: 'the task runs' },
    );
    assert.equal(task.kind, 'github-issue');
    assert.equal(task.machine?.name, 'soda-yeti');
    assert.equal(task.input.cli, 'claude');
    assert.deepEqual(task.input.github, {
      repo: `${OWNER}/widgets`,
      workItem: feature.ref,
      issueTitle: 'Add a changelog',
      mode: 'pull_request',
    });
    assert.match(task.input.prompt ?? '', /Keep CHANGES\.md up to date\.[\s\S]*One line per change, please\./);

    const again = await hub.api<ErrorBody>('POST', `${path}/assign`, { target: 'soda-yeti' });
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.match(again.body.message, new RegExp(`${feature.ref} is already with an agent \\(task ${taskId}`));

    await rm(holdFile());
    const done = await waitItem(path, (item) => assert.equal(item.status, 'review'), `${feature.ref} in review`);
    const pulls = fake.pulls(OWNER, 'widgets');
    assert.equal(pulls.length, 1);
    const pr = present(pulls[0], 'the pull request');
    assert.deepEqual(done.pullRequest, { number: pr.number, url: pr.html_url });
    assert.equal(done.taskState, 'succeeded');
    assert.equal(done.lastFailure, null);
    assert.match(pr.head.ref, new RegExp(`^waggle/${feature.ref}-add-a-changelog$`));
    assert.match(pr.title, new RegExp(`Add a changelog \\(${feature.ref}\\)`));
    assert.match(pr.body ?? '', new RegExp(`Work item \`${feature.ref}\``));
    assert.doesNotMatch(pr.body ?? '', /Fixes #/);
    assert.equal(
      git(fake.barePath(OWNER, 'widgets'), 'show', `${pr.head.ref}:CHANGES.md`),
      '- fixed by the fake agent',
    );

    const steps = await history(path);
    inOrder(
      steps.map((s) => s.step),
      [
        /^created:→proposed$/,
        /^comment:→/,
        /^assigned:→machine soda-yeti, with claude$/,
        new RegExp(`^task:→${taskId} queued$`),
        /^status:proposed→in_progress$/,
        /^task:.*→running on soda-yeti$/,
        /^task:running→succeeded on soda-yeti$/,
        new RegExp(`^pull_request:→${pr.html_url.replace(/[.?]/g, '\\$&')}$`),
        /^status:in_progress→review$/,
      ],
    );
    assert.ok(steps.some((s) => s.step.startsWith('status:in_progress→review') && s.actor === 'tracker'));
    assert.ok(steps.some((s) => s.step.startsWith('assigned:') && s.actor !== 'tracker'));

    // The person takes it from review to done; it cannot be handed out again.
    await ok('PATCH', path, { status: 'done' });
    const closed = await hub.api<ErrorBody>('POST', `${path}/assign`, {});
    assert.equal(closed.status, 409);
    assert.match(closed.body.message, /a feature in done is not handed to an agent/);
  });

  it('sends a bug back where it was with the failure report, and a new assign then fixes it', async () => {
    const bug = await ok<WorkItemView>('POST', '/api/projects/widgets/bugs', {
      title: 'Readme typo',
      description: 'widgets is spelt wigdets somewhere.',
      steps: '1. read the README',
      severity: 'minor',
    });
    const path = `/api/bugs/${bug.ref}`;
    await ok('PATCH', path, { status: 'triaged' });
    await writeFile(failFile(), 'fail');
    const assigned = await ok<WorkItemView>('POST', `${path}/assign`, {}, 200);
    assert.equal(assigned.status, 'in_progress');
    const failed = await waitItem(path, (item) => assert.equal(item.taskState, 'failed'), `${bug.ref} failed`);
    assert.equal(failed.status, 'triaged', 'back where it was');
    assert.match(failed.lastFailure ?? '', /task failed at step agent: agent: claude exited with 3/);
    assert.equal(failed.pullRequest, null);

    await rm(failFile());
    const again = await ok<WorkItemView>('POST', `${path}/assign`, {}, 200);
    assert.notEqual(again.taskId, assigned.taskId);
    assert.equal(again.lastFailure, null);
    const fixed = await waitItem(path, (item) => assert.equal(item.status, 'fixed'), `${bug.ref} fixed`);
    assert.ok(fixed.pullRequest?.url.includes(`/${OWNER}/widgets/pull/`));
    inOrder(
      (await history(path)).map((s) => s.step),
      [
        /^status:open→triaged$/,
        /^assigned:/,
        /^task:→.* queued$/,
        /^status:triaged→in_progress$/,
        /^task:.*→failed/,
        /^failure:→task failed at step agent/,
        /^status:in_progress→triaged$/,
        /^assigned:/,
        /^task:→.* queued$/,
        /^status:triaged→in_progress$/,
        /^pull_request:→/,
        /^status:in_progress→fixed$/,
      ],
    );
  });

  it('refuses work for a project without a GitHub repository, and a machine that does not exist', async () => {
    await ok('POST', '/api/projects', { key: 'local', name: 'Local', repository: 'file:///srv/git/local.git' });
    const feature = await ok<WorkItemView>('POST', '/api/projects/local/features', { title: 'Anything' });
    const res = await hub.api<ErrorBody>('POST', `/api/features/${feature.id}/assign`, {});
    assert.equal(res.status, 400);
    assert.match(res.body.message, /has no GitHub repository/);

    const other = await ok<WorkItemView>('POST', '/api/projects/widgets/features', { title: 'Nowhere to run' });
    const nowhere = await hub.api<ErrorBody>('POST', `/api/features/${other.id}/assign`, { target: 'no-such-machine' });
    assert.equal(nowhere.status, 404, JSON.stringify(nowhere.body));
    const after = await ok<WorkItemView>('GET', `/api/features/${other.id}`);
    assert.equal(after.status, 'proposed');
    assert.equal(after.taskState, null, 'free to be assigned again');
    assert.match(after.lastFailure ?? '', /no task could be made/);
  });

  it('turns on "agents work on labelled issues" as the GitHub bot\'s watch; an issue it takes is a bug linked both ways', async () => {
    const off = await hub.api<ErrorBody>('GET', '/api/projects/widgets/labelled-issues');
    assert.equal(off.status, 404);
    const on = await hub.api<{ repo: string; label: string; webhookSecret?: string }>(
      'PUT',
      '/api/projects/widgets/labelled-issues',
      { label: 'agents' },
    );
    assert.equal(on.status, 200, JSON.stringify(on.body));
    assert.equal(on.body.repo, `${OWNER}/widgets`);
    assert.ok(on.body.webhookSecret, 'the secret the bot made, shown once');
    // One setting: the bot's own list says so too.
    const watched = await ok<Page<{ repo: string; label: string }>>('GET', '/api/github/repos');
    assert.deepEqual(
      watched.items.map((r) => [r.repo, r.label]),
      [[`${OWNER}/widgets`, 'agents']],
    );
    const shown = await ok<{ label: string; webhookSecret?: string }>('GET', '/api/projects/widgets/labelled-issues');
    assert.equal(shown.label, 'agents');
    assert.equal(shown.webhookSecret, undefined);

    const issue = fake.openIssue(OWNER, 'widgets', {
      title: 'Widgets wobble',
      body: 'They wobble on a slope.',
      labels: ['agents'],
      user: 'alice',
    });
    const bug = await eventually(
      async () => {
        const page = await ok<Page<WorkItemView>>('GET', `/api/projects/widgets/bugs?issue=${issue.number}`);
        assert.equal(page.items.length, 1);
        const item = page.items[0]!;
        assert.equal(item.status, 'fixed', JSON.stringify(item));
        return item;
      },
      { timeoutMs: 60_000, what: 'the issue became a bug that ends fixed' },
    );
    assert.equal(bug.title, 'Widgets wobble');
    assert.deepEqual(bug.githubIssue, { repo: `${OWNER}/widgets`, number: issue.number, url: issue.html_url });
    // The bot posts the outcome on the issue in its own time.
    const link = await eventually(
      async () => {
        const links = await ok<Page<{ issueNumber: number; taskId: string; pullRequest: { url: string } | null }>>(
          'GET',
          `/api/github/links?repo=${OWNER}/widgets`,
        );
        const found = links.items.find((l) => l.issueNumber === issue.number);
        assert.ok(found?.pullRequest, JSON.stringify(found));
        return found;
      },
      { what: 'the bot linked the pull request to the issue' },
    );
    assert.equal(link?.taskId, bug.taskId, 'the issue, its task and the bug are one thread');
    assert.equal(bug.pullRequest?.url, link?.pullRequest?.url);
    inOrder(
      (await history(`/api/bugs/${bug.id}`)).map((s) => s.step),
      [
        /^created:→open$/,
        new RegExp(`^github_issue:→${issue.html_url.replace(/[.?]/g, '\\$&')}$`),
        /^status:open→in_progress$/,
        /^pull_request:→/,
        /^status:in_progress→fixed$/,
      ],
    );

    const unwatched = await hub.api('DELETE', '/api/projects/widgets/labelled-issues');
    assert.equal(unwatched.status, 200);
    assert.deepEqual((await ok<Page<unknown>>('GET', '/api/github/repos')).items, []);
    const refused = await hub.api<ErrorBody>('PUT', '/api/projects/local/labelled-issues', {});
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /has no GitHub repository/);
  });
});
