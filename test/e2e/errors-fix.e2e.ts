import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { childEnvironment } from '@waggle/config';
import type { ErrorGroupView, IngestKeyCreated, Page, TaskView, WorkItemView } from '@waggle/contracts';
import { eventually, FakeGithub, installFakeClaude, present, TestHub } from '@waggle/testing';

const MACHINE_TOKEN = 'ghp_machineMACHINEmachineMACHINE0002';
const BOT_TOKEN = 'ghp_botBOTbotBOTbotBOTbotBOTbotBOT0001';
const OWNER = 'acme';

const STACK = `TypeError: Cannot read properties of undefined (reading 'price')
    at totalOf (/srv/shop/src/cart.js:12:20)
    at checkout (/srv/shop/src/checkout.js:40:10)
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)`;

describe('errors: "fix it" hands an error group to an agent and links the pull request', () => {
  let dir: string;
  let fake: FakeGithub;
  let hub: TestHub;
  let key: IngestKeyCreated;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-errors-fix-'));
    fake = await FakeGithub.start({ dir: join(dir, 'remote') });
    fake.addUser('soda-bot', MACHINE_TOKEN);
    fake.addUser('waggle-bot', BOT_TOKEN);
    await fake.createRepo(OWNER, 'shop', {
      collaborators: ['soda-bot', 'waggle-bot'],
      files: { 'README.md': '# shop\n' },
    });
    const bin = join(dir, 'bin');
    await installFakeClaude(bin);
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
      key: 'shop',
      name: 'Shop',
      repository: `${OWNER}/shop`,
      placement: { cli: 'claude' },
    });
    assert.equal(project.status, 201, JSON.stringify(project.body));
    key = (await hub.api<IngestKeyCreated>('POST', '/api/projects/shop/ingest-keys', {})).body;
  });

  after(async () => {
    await hub?.stop();
    await fake?.stop();
    if (dir) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const ok = async <T>(method: string, path: string, body?: unknown, status = 200) => {
    const res = await hub.api<T>(method, path, body);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };

  it('makes the bug once, runs the agent with the stack trace, and the group shows the pull request', async () => {
    const sent = await fetch(`${hub.url}/api/errors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waggle-ingest-key': key.key },
      body: JSON.stringify({
        type: 'TypeError',
        message: "Cannot read properties of undefined (reading 'price')",
        stack: STACK,
        node: 'web-1',
        tags: { route: '/checkout' },
      }),
    });
    assert.equal(sent.status, 200, await sent.clone().text());
    const group = await eventually(
      async () => present((await ok<Page<ErrorGroupView>>('GET', '/api/errors?project=shop')).items[0], 'the group'),
      { what: 'the group' },
    );
    assert.equal(group.culprit, 'totalOf (src/cart.js)');

    const bug = await ok<WorkItemView>('POST', `/api/errors/${group.id}/bug`);
    assert.equal(bug.kind, 'bug');
    assert.match(bug.body, new RegExp(`Error group ${group.id}`));
    assert.match(bug.body, /at totalOf \(\/srv\/shop\/src\/cart\.js:12:20\)/);
    assert.match(bug.environment ?? '', /Machines: web-1/);
    assert.equal((await ok<WorkItemView>('POST', `/api/errors/${group.id}/bug`)).id, bug.id, 'one bug per group');
    assert.equal((await ok<ErrorGroupView>('GET', `/api/errors/${group.id}`)).bug?.ref, bug.ref);

    const fixing = await ok<WorkItemView>('POST', `/api/errors/${group.id}/fix`, { target: 'soda-yeti' });
    assert.equal(fixing.id, bug.id);
    assert.equal(fixing.status, 'in_progress');
    const task = await ok<TaskView>('GET', `/api/tasks/${present(fixing.taskId, 'the task')}`);
    assert.equal(task.input.github?.workItem, bug.ref);
    assert.match(task.input.prompt ?? '', /TypeError: Cannot read properties of undefined[\s\S]*at totalOf/);
    assert.match(task.input.prompt ?? '', /Tags: \{"route":"\/checkout"\}/);

    const fixed = await eventually(
      async () => {
        const item = await ok<WorkItemView>('GET', `/api/bugs/${bug.id}`);
        assert.equal(item.status, 'fixed');
        return item;
      },
      { timeoutMs: 60_000, what: `${bug.ref} fixed` },
    );
    const pr = present(fake.pulls(OWNER, 'shop')[0], 'the pull request');
    assert.deepEqual(fixed.pullRequest, { number: pr.number, url: pr.html_url });
    assert.match(pr.body ?? '', new RegExp(`Work item \`${bug.ref}\``));
    const after = await ok<ErrorGroupView>('GET', `/api/errors/${group.id}`);
    assert.deepEqual(after.bug, {
      id: bug.id,
      ref: bug.ref,
      status: 'fixed',
      taskId: fixing.taskId,
      pullRequestUrl: pr.html_url,
    });
  });
});
