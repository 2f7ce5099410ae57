import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Client } from 'pg';
import WebSocket from 'ws';

import { childEnvironment } from '@waggle/config';
import type { GithubLinkView, Page, TaskLogsPage, TaskView, WaggleEvent, WatchedRepoView } from '@waggle/contracts';
import { eventually, FakeGithub, installFakeClaude, present, runCli, TestHub } from '@waggle/testing';

const BOT_TOKEN = 'ghp_botBOTbotBOTbotBOTbotBOTbotBOT0001';
const MACHINE_TOKEN = 'ghp_machineMACHINEmachineMACHINE0002';
const SECRET = 'a-webhook-secret-of-some-length';
const OWNER = 'acme';

function openWs(url: string, token: string): Promise<{ ws: WebSocket; events: WaggleEvent[] }> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const events: WaggleEvent[] = [];
  ws.on('message', (raw: Buffer) => {
    const msg = JSON.parse(raw.toString('utf8')) as { type: string; event?: WaggleEvent };
    if (msg.type === 'event' && msg.event) {
      events.push(msg.event);
    }
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, events }));
    ws.once('error', reject);
  });
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

describe('GitHub: labelled issues become tasks, results come back as pull requests, comments or failure reports', () => {
  let dir: string;
  let fake: FakeGithub;
  let hub: TestHub;
  let db: Client;
  let ws: { ws: WebSocket; events: WaggleEvent[] };
  const failFile = () => join(dir, 'claude-fails');
  const envDump = () => join(dir, 'claude-env.txt');
  const workDir = () => join(dir, 'work');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-github-'));
    fake = await FakeGithub.start({ dir: join(dir, 'remote') });
    fake.addUser('waggle-bot', BOT_TOKEN);
    fake.addUser('soda-bot', MACHINE_TOKEN);
    fake.addUser('alice', 'ghp_aliceALICEaliceALICEaliceALICE0003');
    await fake.createRepo(OWNER, 'widgets', {
      collaborators: ['waggle-bot', 'soda-bot'],
      files: { 'README.md': '# widgets\n' },
    });
    await fake.createRepo(OWNER, 'gadgets', { collaborators: ['waggle-bot', 'soda-bot'] });
    // The machine may read but not push here: it must fork.
    await fake.createRepo(OWNER, 'sealed', { collaborators: ['waggle-bot'] });
    const bin = join(dir, 'bin');
    await installFakeClaude(bin);
    hub = await TestHub.start({
      github: {
        env: {
          GITHUB_TOKEN: BOT_TOKEN,
          WAGGLE_GITHUB_API_URL: fake.url,
          WAGGLE_GITHUB_POLL_INTERVAL_MS: '300',
          WAGGLE_GITHUB_MAX_ATTEMPTS: '2',
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
        WAGGLE_AGENT_WORK_DIR: workDir(),
        WAGGLE_AGENT_KEEP_FAILED_SECONDS: '3600',
        FAKE_CLAUDE_FAIL_FILE: failFile(),
        FAKE_CLAUDE_ENV_DUMP: envDump(),
      },
    });
    await eventually(
      async () => {
        const m = await hub.api<{ capabilityTags: string[] }>('GET', '/api/machines/soda-yeti');
        assert.ok(
          m.body.capabilityTags.includes('github') && m.body.capabilityTags.includes('claude'),
          m.body.capabilityTags.join(' '),
        );
      },
      { what: 'soda-yeti offers github and claude' },
    );
    db = new Client({ connectionString: hub.databaseUrl });
    await db.connect();
    ws = await openWs(`${hub.url.replace('http', 'ws')}/ws`, hub.adminToken);
    for (const repo of ['widgets', 'sealed']) {
      const watched = await hub.api('POST', '/api/github/repos', {
        repo: `${OWNER}/${repo}`,
        label: 'waggle',
        webhookSecret: SECRET,
        poll: false,
      });
      assert.equal(watched.status, 201, JSON.stringify(watched.body));
    }
  });

  after(async () => {
    ws?.ws.close();
    await db?.end();
    await hub?.stop();
    await fake?.stop();
    if (dir) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const webhook = (
    repo: string,
    issue: number,
    action: 'opened' | 'labeled',
    deliveryId = randomUUID(),
    secret = SECRET,
    contentType: 'json' | 'form' = 'json',
  ) =>
    FakeGithub.deliver(`${hub.url}/api/github/webhook`, {
      event: 'issues',
      deliveryId,
      payload: fake.issuesEvent(OWNER, repo, issue, action),
      secret,
      contentType,
    });

  const links = async (repo: string) =>
    (await hub.api<Page<GithubLinkView>>('GET', `/api/github/links?repo=${OWNER}/${repo}`)).body.items;
  const linkOf = async (repo: string, issue: number) => (await links(repo)).find((l) => l.issueNumber === issue);
  const waitLink = (repo: string, issue: number, status: GithubLinkView['status']) =>
    eventually(
      async () => {
        const link = await linkOf(repo, issue);
        assert.ok(link, `${repo}#${issue} has no link`);
        assert.equal(link.status, status, JSON.stringify(link));
        return link;
      },
      { timeoutMs: 60_000, what: `${repo}#${issue} ${status}` },
    );
  const githubTasks = async () =>
    (await hub.api<Page<TaskView>>('GET', '/api/tasks?kind=github-issue&limit=500')).body.items;
  const botComments = (repo: string, issue: number) =>
    fake.comments(OWNER, repo, issue).filter((c) => c.user.login === 'waggle-bot');

  it('turns a labelled issue into one task, a branch pushed to the repository and a pull request that fixes the issue', async () => {
    const issue = fake.openIssue(OWNER, 'widgets', {
      title: 'Add a changelog',
      body: 'We need CHANGES.md.',
      labels: ['waggle'],
      user: 'alice',
    });
    fake.addIssueComment(OWNER, 'widgets', issue.number, 'alice', 'Keep it short, please.');
    const delivered = await webhook('widgets', issue.number, 'opened');
    assert.equal(delivered.status, 200, JSON.stringify(delivered.body));
    assert.deepEqual(delivered.body, { accepted: true, result: 'linked' });

    const link = await waitLink('widgets', issue.number, 'done');
    assert.equal(link.outcome, 'pull_request');
    assert.equal(link.claimedBy, 'soda-yeti');
    const tasks = (await githubTasks()).filter(
      (t) => t.input.github?.repo === `${OWNER}/widgets` && t.input.github.issueNumber === issue.number,
    );
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]?.id, link.taskId);
    assert.match(tasks[0]?.input.prompt ?? '', /We need CHANGES\.md\.[\s\S]*Keep it short, please\./);

    // The branch is in the bare repository, with the agent's change, committed as the machine.
    const pulls = fake.pulls(OWNER, 'widgets');
    assert.equal(pulls.length, 1);
    const pr = present(pulls[0], 'the pull request');
    assert.match(pr.head.ref, new RegExp(`^waggle/${issue.number}-add-a-changelog$`));
    assert.match(pr.body ?? '', new RegExp(`Fixes #${issue.number}`));
    assert.equal(pr.base.ref, 'main');
    assert.deepEqual(link.pullRequest, { number: pr.number, url: pr.html_url });
    const bare = fake.barePath(OWNER, 'widgets');
    assert.equal(git(bare, 'show', `${pr.head.ref}:CHANGES.md`), '- fixed by the fake agent');
    assert.equal(git(bare, 'log', '-1', '--format=%an <%ae>', pr.head.ref), 'Soda Yeti <soda@example.test>');
    assert.equal(git(bare, 'rev-parse', pr.head.ref), pr.head.sha);

    // Comments and labels in order: queued, claimed, in progress, the pull request, done.
    const timeline = fake.timeline(OWNER, 'widgets', issue.number).filter((e) => e.actor === 'waggle-bot');
    const steps = timeline.map((e) =>
      e.event === 'commented'
        ? `comment:${/Claimed by/.test(e.body ?? '') ? 'claimed' : 'outcome'}`
        : `${e.event}:${e.label}`,
    );
    assert.deepEqual(
      steps.filter((s) => !s.startsWith('unlabeled')),
      [
        'labeled:waggle:queued',
        'comment:claimed',
        'labeled:waggle:in-progress',
        'comment:outcome',
        'labeled:waggle:done',
      ],
    );
    assert.deepEqual(
      fake
        .issue(OWNER, 'widgets', issue.number)!
        .labels.map((l) => l.name)
        .sort(),
      ['waggle', 'waggle:done'],
    );
    const comments = botComments('widgets', issue.number);
    assert.equal(comments.length, 2);
    assert.match(comments[0]?.body ?? '', /Claimed by \*\*soda-yeti\*\*/);
    assert.ok(comments[1]?.body?.includes(pr.html_url));

    // The working tree is gone; no token reached the agent, the logs, the result or the comments.
    await eventually(async () => assert.deepEqual(await readdir(workDir()).catch(() => []), []), {
      what: 'work dir cleaned',
    });
    const logs = await hub.api<TaskLogsPage>('GET', `/api/tasks/${link.taskId}/logs`);
    const task = await hub.api<TaskView>('GET', `/api/tasks/${link.taskId}`);
    const seen = [
      await readFile(envDump(), 'utf8'),
      JSON.stringify(logs.body),
      JSON.stringify(task.body),
      JSON.stringify(fake.comments(OWNER, 'widgets', issue.number)),
    ];
    for (const text of seen) {
      assert.ok(!text.includes(MACHINE_TOKEN), 'machine token leaked');
      assert.ok(!text.includes(BOT_TOKEN), 'bot token leaked');
    }

    // Every step reached /ws.
    await eventually(() => {
      const types = new Set(
        ws.events.filter((e) => (e.data as { linkId?: string }).linkId === link.id).map((e) => e.type),
      );
      for (const type of [
        'github.issue_linked',
        'github.status_changed',
        'github.issue_claimed',
        'github.outcome_posted',
      ]) {
        assert.ok(types.has(type as never), type);
      }
    });
    assert.ok(!JSON.stringify(ws.events).includes(MACHINE_TOKEN) && !JSON.stringify(ws.events).includes(BOT_TOKEN));
  });

  it('drops a redelivered webhook, and a second event for a linked issue makes no second task', async () => {
    const issue = fake.openIssue(OWNER, 'widgets', { title: 'Twice told', labels: ['waggle'], user: 'alice' });
    const id = randomUUID();
    const first = await webhook('widgets', issue.number, 'opened', id);
    const again = await webhook('widgets', issue.number, 'opened', id);
    const labelled = await webhook('widgets', issue.number, 'labeled');
    assert.deepEqual(first.body, { accepted: true, result: 'linked' });
    assert.equal(again.status, 200);
    assert.equal((again.body as { accepted: boolean }).accepted, false);
    assert.deepEqual(labelled.body, { accepted: true, result: 'already linked' });
    await waitLink('widgets', issue.number, 'done');
    const tasks = (await githubTasks()).filter(
      (t) => t.input.github?.issueNumber === issue.number && t.input.github.repo === `${OWNER}/widgets`,
    );
    assert.equal(tasks.length, 1);
  });

  it('refuses a forged or unsigned webhook with 401 and stores nothing', async () => {
    const issue = fake.openIssue(OWNER, 'widgets', { title: 'Forged', labels: ['waggle'], user: 'alice' });
    const forgedId = randomUUID();
    const forged = await webhook('widgets', issue.number, 'opened', forgedId, 'not-the-secret-at-all');
    assert.equal(forged.status, 401);
    const payload = JSON.stringify(fake.issuesEvent(OWNER, 'widgets', issue.number, 'opened'));
    const unsigned = await fetch(`${hub.url}/api/github/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': randomUUID() },
      body: payload,
    });
    assert.equal(unsigned.status, 401);
    // Signed for other bytes than those sent.
    const tampered = await fetch(`${hub.url}/api/github/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': FakeGithub.sign(SECRET, payload.replace('Forged', 'Forgex')),
      },
      body: payload,
    });
    assert.equal(tampered.status, 401);
    assert.equal(await linkOf('widgets', issue.number), undefined);
    const stored = await db.query(`SELECT count(*)::int AS n FROM "github"."deliveries" WHERE "id" = $1`, [forgedId]);
    assert.equal(stored.rows[0].n, 0);
    // The genuine delivery still works afterwards.
    assert.deepEqual((await webhook('widgets', issue.number, 'opened')).body, { accepted: true, result: 'linked' });
    await waitLink('widgets', issue.number, 'done');
  });

  it("takes a form-encoded delivery (the default of GitHub's webhook form) and still refuses a forged one", async () => {
    const issue = fake.openIssue(OWNER, 'widgets', { title: 'Fix the footer', labels: ['waggle'], user: 'alice' });
    const forged = await webhook('widgets', issue.number, 'opened', randomUUID(), 'not-the-secret-at-all', 'form');
    assert.equal(forged.status, 401, JSON.stringify(forged.body));
    const genuine = await webhook('widgets', issue.number, 'opened', randomUUID(), SECRET, 'form');
    assert.equal(genuine.status, 200, JSON.stringify(genuine.body));
    assert.deepEqual(genuine.body, { accepted: true, result: 'linked' });
    await waitLink('widgets', issue.number, 'done');
  });

  it('a bot token that may not label: the pull request and outcome are kept, and the problem is shown', async () => {
    // The machine may push here; the bot may read and comment, not label.
    await fake.createRepo(OWNER, 'nolabels', { collaborators: ['soda-bot'], files: { 'README.md': '# x\n' } });
    const watched = await hub.api('POST', '/api/github/repos', {
      repo: `${OWNER}/nolabels`,
      label: 'waggle',
      webhookSecret: SECRET,
      poll: false,
    });
    assert.equal(watched.status, 201, JSON.stringify(watched.body));
    const issue = fake.openIssue(OWNER, 'nolabels', { title: 'Add a changelog', labels: ['waggle'], user: 'alice' });
    assert.deepEqual((await webhook('nolabels', issue.number, 'opened')).body, { accepted: true, result: 'linked' });
    const link = await waitLink('nolabels', issue.number, 'done');
    assert.equal(link.outcome, 'pull_request');
    assert.ok(link.pullRequest?.url, 'the pull request is on the link although no label could be set');
    assert.match(link.problem ?? '', /GitHub refused to label acme\/nolabels#\d+ "[^"]+": 403 .*Issues: write/);
    assert.ok(
      botComments('nolabels', issue.number).some((c) => c.body.includes(link.pullRequest!.url)),
      'the outcome comment names the pull request',
    );
    await eventually(() =>
      assert.ok(
        ws.events.some(
          (e) =>
            e.type === 'github.problem' &&
            (e.data as { issueNumber: number; problem: string | null }).issueNumber === issue.number &&
            (e.data as { problem: string | null }).problem?.includes('403'),
        ),
        'github.problem on /ws',
      ),
    );
    const env = { WAGGLE_TOKEN: hub.adminToken, WAGGLE_HUB_URL: hub.url };
    const links = await runCli(['github', 'links', '--repo', `${OWNER}/nolabels`], env);
    assert.match(links.stdout, /PROBLEM/);
    assert.match(links.stdout, /GitHub refused to label/);
    const repos = await runCli(['github', 'repos', '--json'], env);
    const nolabels = (JSON.parse(repos.stdout) as WatchedRepoView[]).find((r) => r.repo === `${OWNER}/nolabels`);
    assert.match(nolabels?.linkProblem ?? '', /GitHub refused to label/);
    assert.equal((await hub.api('DELETE', `/api/github/repos/${OWNER}/nolabels`)).status, 200);
  });

  it('does nothing for an issue without the trigger label', async () => {
    const issue = fake.openIssue(OWNER, 'widgets', { title: 'Just a question', labels: ['question'], user: 'alice' });
    const before = (await githubTasks()).length;
    const reply = await webhook('widgets', issue.number, 'opened');
    assert.deepEqual(reply.body, { accepted: true, result: 'not labelled' });
    assert.equal(await linkOf('widgets', issue.number), undefined);
    assert.equal((await githubTasks()).length, before);
    assert.equal(fake.comments(OWNER, 'widgets', issue.number).length, 0);
  });

  it('posts a failure report when the agent fails, and a retry replaces it with the pull request', async (t) => {
    await writeFile(failFile(), 'fail');
    t.after(() => rm(failFile(), { force: true }));
    const issue = fake.openIssue(OWNER, 'widgets', {
      title: 'Hard one',
      body: 'Please try.',
      labels: ['waggle'],
      user: 'alice',
    });
    await webhook('widgets', issue.number, 'opened');
    const failed = await waitLink('widgets', issue.number, 'failed');
    assert.equal(failed.outcome, 'failed');
    const [claimed, report] = botComments('widgets', issue.number);
    assert.ok(claimed && report, 'the claimed comment and the report');
    assert.match(claimed.body ?? '', /Claimed by \*\*soda-yeti\*\*:/);
    assert.match(report.body ?? '', /Waggle could not finish this issue/);
    assert.match(report.body ?? '', /\*\*Exit code:\*\* 3/);
    assert.match(report.body ?? '', /\| agent \| `claude` \| 3 \|/);
    assert.match(report.body ?? '', /boom: the model could not do it/);
    assert.ok(!report.body?.includes(MACHINE_TOKEN) && !report.body?.includes(BOT_TOKEN));
    assert.equal(fake.pulls(OWNER, 'widgets').filter((p) => p.body?.includes(`Fixes #${issue.number}`)).length, 0);
    assert.ok(fake.issue(OWNER, 'widgets', issue.number)!.labels.some((l) => l.name === 'waggle:failed'));
    // The failed attempt's working tree is kept for a look.
    assert.ok((await readdir(workDir())).length >= 1);

    await rm(failFile(), { force: true });
    assert.equal((await hub.api('POST', `/api/tasks/${failed.taskId}/retry`)).status, 200);
    const done = await waitLink('widgets', issue.number, 'done');
    assert.equal(done.outcome, 'pull_request');
    const comments = botComments('widgets', issue.number);
    assert.equal(comments.length, 2, 'the claimed and outcome comments were edited, not posted again');
    assert.match(comments[0]?.body ?? '', /Claimed by \*\*soda-yeti\*\* \(attempt 2\)/);
    const outcome = present(comments[1], 'the outcome comment');
    assert.equal(outcome.id, report.id);
    assert.ok(outcome.body?.includes(done.pullRequest!.url));
    assert.ok(!outcome.body?.includes('could not finish'));
    assert.equal(fake.pulls(OWNER, 'widgets').filter((p) => p.body?.includes(`Fixes #${issue.number}`)).length, 1);
  });

  it('says so in a comment, and opens no pull request, when the agent changes nothing', async () => {
    const issue = fake.openIssue(OWNER, 'widgets', {
      title: 'Already fine',
      body: 'NOTHING-TO-DO here',
      labels: ['waggle'],
      user: 'alice',
    });
    const pullsBefore = fake.pulls(OWNER, 'widgets').length;
    await webhook('widgets', issue.number, 'opened');
    const link = await waitLink('widgets', issue.number, 'done');
    assert.equal(link.outcome, 'no_changes');
    assert.equal(link.pullRequest, null);
    assert.equal(fake.pulls(OWNER, 'widgets').length, pullsBefore);
    assert.match(
      botComments('widgets', issue.number).at(-1)?.body ?? '',
      /changed nothing, so there is no pull request/,
    );
  });

  it('opens follow-up issues instead of a pull request when the issue says so', async () => {
    const issue = fake.openIssue(OWNER, 'widgets', {
      title: 'Plan the release',
      labels: ['waggle', 'mode:follow-up'],
      user: 'alice',
    });
    const pullsBefore = fake.pulls(OWNER, 'widgets').length;
    await webhook('widgets', issue.number, 'opened');
    const link = await waitLink('widgets', issue.number, 'done');
    assert.equal(link.outcome, 'follow_up');
    assert.deepEqual(
      link.followUps.map((f) => f.title),
      ['Write the docs', 'Add a test'],
    );
    for (const f of link.followUps) {
      const opened = fake.issue(OWNER, 'widgets', f.number)!;
      assert.equal(opened.user.login, 'soda-bot');
      assert.match(opened.body ?? '', new RegExp(`Follow-up of #${issue.number}`));
    }
    assert.equal(fake.pulls(OWNER, 'widgets').length, pullsBefore);
    assert.match(
      botComments('widgets', issue.number).at(-1)?.body ?? '',
      /opened follow-up issues:[\s\S]*Write the docs[\s\S]*Add a test/,
    );
    const opened = () => fake.issues(OWNER, 'widgets').filter((i) => i.title === 'Write the docs').length;
    assert.equal(opened(), 1);
  });

  it('loses nothing and posts nothing twice when the bot is killed while the task runs', async () => {
    const issue = fake.openIssue(OWNER, 'widgets', {
      title: 'While the bot is away',
      labels: ['waggle'],
      user: 'alice',
    });
    assert.deepEqual((await webhook('widgets', issue.number, 'opened')).body, { accepted: true, result: 'linked' });
    await hub.githubBot!.kill('SIGKILL');
    const task = await eventually(
      async () => {
        const found = (await githubTasks()).find(
          (t) => t.input.github?.repo === `${OWNER}/widgets` && t.input.github.issueNumber === issue.number,
        );
        assert.ok(found, 'the task exists');
        assert.equal(found.state, 'succeeded');
        return found;
      },
      { timeoutMs: 60_000, what: 'the task succeeded while the bot was down' },
    );
    hub.githubBot!.start();
    const link = await waitLink('widgets', issue.number, 'done');
    assert.equal(link.taskId, task.id);
    assert.equal(link.outcome, 'pull_request');
    const comments = botComments('widgets', issue.number);
    assert.equal(comments.length, 2, comments.map((c) => c.body).join('\n---\n'));
    assert.equal(fake.pulls(OWNER, 'widgets').filter((p) => p.body?.includes(`Fixes #${issue.number}`)).length, 1);
    const labels = fake
      .timeline(OWNER, 'widgets', issue.number)
      .filter((e) => e.event === 'labeled' && e.actor === 'waggle-bot');
    assert.deepEqual(
      labels.map((e) => e.label),
      ['waggle:queued', 'waggle:in-progress', 'waggle:done'],
    );
  });

  it('forks a repository the machine cannot push to, once, and opens the pull request from the fork', async () => {
    for (const title of ['First in sealed', 'Second in sealed']) {
      const issue = fake.openIssue(OWNER, 'sealed', { title, labels: ['waggle'], user: 'alice' });
      await webhook('sealed', issue.number, 'opened');
      const link = await waitLink('sealed', issue.number, 'done');
      assert.equal(link.outcome, 'pull_request');
    }
    assert.deepEqual(fake.forks(OWNER, 'sealed'), ['soda-bot/sealed']);
    const pulls = fake.pulls(OWNER, 'sealed');
    assert.equal(pulls.length, 2);
    for (const pr of pulls) {
      assert.match(pr.head.label, /^soda-bot:waggle\//);
      assert.equal(
        git(fake.barePath('soda-bot', 'sealed'), 'show', `${pr.head.ref}:CHANGES.md`),
        '- fixed by the fake agent',
      );
    }
    const fromFork = present(pulls[0], 'a pull request from the fork');
    assert.throws(() =>
      git(fake.barePath(OWNER, 'sealed'), 'rev-parse', '--verify', `refs/heads/${fromFork.head.ref}`),
    );
  });

  it('polls a repository with conditional requests, waits out a rate limit and resumes', async () => {
    const issue = fake.openIssue(OWNER, 'gadgets', { title: 'Polled issue', labels: ['waggle'], user: 'alice' });
    // The first poll of the repository is answered with GitHub's primary rate limit.
    fake.rateLimitNext(1, { status: 403, resetInSeconds: 2, pathPrefix: `/repos/${OWNER}/gadgets/issues?` });
    const cli = { WAGGLE_HUB_URL: hub.url, WAGGLE_TOKEN: hub.adminToken };
    const watched = await runCli(['github', 'watch', `${OWNER}/gadgets`, '--label', 'waggle'], cli);
    assert.equal(watched.code, 0, watched.stderr);
    assert.match(
      watched.stdout,
      /watching acme\/gadgets: open issues labelled "waggle" become tasks \(polled, and by webhook\)/,
    );
    assert.match(watched.stdout, /webhook secret \(shown once\): \S{20,}/);
    const link = await waitLink('gadgets', issue.number, 'done');
    assert.equal(link.outcome, 'pull_request');

    // The limited request, then nothing until GitHub's reset time, then the bot went on.
    const limitedAt = fake.requests.findIndex((r) => r.rateLimited);
    assert.ok(limitedAt >= 0, 'the rate limit was hit');
    const limited = present(fake.requests[limitedAt], 'the limited request');
    assert.match(
      limited.path,
      /^\/repos\/acme\/gadgets\/issues\?labels=waggle&state=open/,
      'the poll itself was limited',
    );
    const next = fake.requests.slice(limitedAt + 1).find((r) => r.login === 'waggle-bot');
    assert.ok(next, 'the bot resumed');
    assert.ok(next.at - limited.at >= 1000, `resumed ${next.at - limited.at} ms after the limit, before the reset`);
    assert.ok(ws.events.some((e) => e.type === 'github.rate_limited'));

    // Unchanged since: the next polls are conditional and answered 304.
    await eventually(() =>
      assert.ok(
        fake.requests.filter(
          (r) => r.login === 'waggle-bot' && r.path.startsWith(`/repos/${OWNER}/gadgets/issues?`) && r.status === 304,
        ).length >= 2,
      ),
    );
    const tasks = (await githubTasks()).filter((t) => t.input.github?.repo === `${OWNER}/gadgets`);
    assert.equal(tasks.length, 1, 'many polls, one task');
    const links = await runCli(['github', 'links', '--repo', `${OWNER}/gadgets`, '--json'], cli);
    assert.equal(links.code, 0, links.stderr);
    assert.deepEqual(
      (JSON.parse(links.stdout) as GithubLinkView[]).map((l) => [l.issueNumber, l.status, l.pullRequest?.number]),
      [[issue.number, 'done', link.pullRequest?.number]],
    );
    const repos = await hub.api<Page<{ repo: string; webhookSecret?: string }>>('GET', '/api/github/repos');
    assert.deepEqual(repos.body.items.map((r) => r.repo).sort(), [
      `${OWNER}/gadgets`,
      `${OWNER}/sealed`,
      `${OWNER}/widgets`,
    ]);
    assert.ok(
      repos.body.items.every((r) => r.webhookSecret === undefined) && !JSON.stringify(repos.body).includes(SECRET),
      'secrets are never listed',
    );
  });
});
