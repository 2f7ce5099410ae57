import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { childEnvironment } from '@waggle/config';

import { FakeGithub } from './fake-github';
import type { GithubComment, GithubIssue, GithubLabel, GithubPull, GithubRepo, GithubUser } from './fake-github';
import { present } from './present';

const run = promisify(execFile);

interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

interface ErrorBody {
  message: string;
  errors?: { resource: string; code: string; field?: string; message?: string }[];
  documentation_url: string;
  status: string;
}

interface Branch {
  name: string;
  commit: { sha: string; commit: { message: string }; parents: { sha: string }[] };
  protected: boolean;
}

const TOKENS = { alice: 'tok-alice', bob: 'tok-bob', carol: 'tok-carol' } as const;
type Person = keyof typeof TOKENS;

async function call<T>(
  github: FakeGithub,
  who: Person | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const response = await fetch(github.url + path, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      ...(who ? { authorization: `token ${TOKENS[who]}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

/** git with a fixed identity, never a shell; stdout trimmed. */
async function git(cwd: string, ...args: string[]): Promise<string> {
  const identity = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false'];
  const { stdout } = await run('git', [...identity, ...args], {
    cwd,
    env: childEnvironment({ GIT_TERMINAL_PROMPT: '0' }),
  });
  return stdout.trim();
}

function useGithub(): { github: () => FakeGithub; dir: () => string } {
  let github: FakeGithub | undefined;
  let dir: string | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fake-github-'));
    github = await FakeGithub.start({ dir: join(dir, 'repos') });
    for (const [login, token] of Object.entries(TOKENS)) {
      github.addUser(login, token);
    }
  });
  after(async () => {
    await github?.stop();
    if (dir) {
      await rm(dir, { recursive: true, force: true });
    }
  });
  return {
    github: () => {
      assert.ok(github);
      return github;
    },
    dir: () => {
      assert.ok(dir);
      return dir;
    },
  };
}

let repoCount = 0;

/** A fresh alice/<name> with bob as collaborator, so each test has its own issue numbers. */
async function freshRepo(github: FakeGithub, files?: Record<string, string>): Promise<string> {
  const name = `proj-${++repoCount}`;
  await github.createRepo('alice', name, { collaborators: ['bob'], files });
  return name;
}

describe('FakeGithub: authentication and headers', () => {
  const { github } = useGithub();

  it('answers an unknown or missing token with 401 Bad credentials, and logs it without the token', async () => {
    const expected = { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' };
    const none = await call<ErrorBody>(github(), null, 'GET', '/user');
    assert.equal(none.status, 401);
    assert.deepEqual(none.body, expected);
    const response = await fetch(`${github().url}/user`, { headers: { authorization: 'token nope' } });
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), expected);
    const logged = github().requests.filter((r) => r.path === '/user');
    assert.deepEqual(
      logged.map((r) => [r.login, r.status]),
      [
        [null, 401],
        [null, 401],
      ],
    );
    assert.doesNotMatch(JSON.stringify(github().requests), /nope|tok-/);
  });

  it('answers GET /user with the caller, for token and Bearer, with GitHub headers and a falling rate limit', async () => {
    const first = await call<GithubUser>(github(), 'alice', 'GET', '/user');
    const second = await fetch(`${github().url}/user`, { headers: { authorization: `Bearer ${TOKENS.alice}` } });
    const user = (await second.json()) as GithubUser;
    assert.equal(first.status, 200);
    assert.equal(first.body.login, 'alice');
    assert.equal(first.body.type, 'User');
    assert.equal(user.id, first.body.id);
    assert.equal(first.body.node_id, Buffer.from(`04:User${first.body.id}`).toString('base64'));
    assert.equal(first.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(first.headers.get('x-github-api-version-selected'), '2022-11-28');
    assert.match(first.headers.get('x-github-request-id') ?? '', /^[0-9A-F]+(:[0-9A-F]+){4}$/);
    assert.equal(first.headers.get('x-ratelimit-limit'), '5000');
    assert.equal(first.headers.get('x-ratelimit-resource'), 'core');
    const [remainingFirst, remainingSecond] = [first.headers, second.headers].map((h) =>
      Number(h.get('x-ratelimit-remaining')),
    );
    assert.ok(remainingFirst !== undefined && remainingSecond !== undefined);
    assert.equal(remainingSecond, remainingFirst - 1);
    assert.equal(Number(second.headers.get('x-ratelimit-used')), 5000 - remainingSecond);
    assert.ok(Number(first.headers.get('x-ratelimit-reset')) > Date.now() / 1000);
    assert.equal(github().requests.at(-1)?.login, 'alice');
  });

  it('answers unknown routes and repositories with 404 Not Found', async () => {
    for (const path of ['/nope', '/repos/alice/missing', '/repos/alice/missing/issues']) {
      const answer = await call<ErrorBody>(github(), 'alice', 'GET', path);
      assert.equal(answer.status, 404, path);
      assert.equal(answer.body.message, 'Not Found');
      assert.equal(answer.body.status, '404');
    }
  });
});

describe('FakeGithub: repositories and git', () => {
  const { github, dir } = useGithub();

  it('gives each caller its own permissions and a clone_url git accepts', async () => {
    const name = await freshRepo(github());
    const perms = async (who: Person) =>
      (await call<GithubRepo>(github(), who, 'GET', `/repos/alice/${name}`)).body.permissions;
    assert.deepEqual(await perms('alice'), { admin: true, maintain: true, push: true, triage: true, pull: true });
    assert.deepEqual(await perms('bob'), { admin: false, maintain: false, push: true, triage: true, pull: true });
    assert.deepEqual(await perms('carol'), { admin: false, maintain: false, push: false, triage: false, pull: true });
    const repo = (await call<GithubRepo>(github(), 'carol', 'GET', `/repos/ALICE/${name}`)).body;
    assert.equal(repo.full_name, `alice/${name}`);
    assert.equal(repo.default_branch, 'main');
    assert.equal(repo.fork, false);
    assert.equal(repo.clone_url, `file://${github().barePath('alice', name)}`);
    assert.equal(
      await git(dir(), 'ls-remote', '--symref', repo.clone_url, 'HEAD').then((out) => out.split('\n')[0]),
      'ref: refs/heads/main\tHEAD',
    );
  });

  it('answers GET branches from what was really pushed through clone_url', async () => {
    const name = await freshRepo(github(), { 'README.md': '# hi\n', 'src/app.txt': 'v1\n' });
    const { clone_url } = (await call<GithubRepo>(github(), 'bob', 'GET', `/repos/alice/${name}`)).body;
    const tree = join(dir(), `${name}-bob`);
    await git(dir(), 'clone', '--quiet', clone_url, tree);
    assert.equal(await readFile(join(tree, 'src/app.txt'), 'utf8'), 'v1\n');
    const main = await git(tree, 'rev-parse', 'HEAD');
    await writeFile(join(tree, 'src/app.txt'), 'v2\n');
    await git(tree, 'commit', '--quiet', '-am', 'Bump the app');
    await git(tree, 'push', '--quiet', 'origin', 'HEAD:refs/heads/waggle/1-bump');
    const pushed = await git(tree, 'rev-parse', 'HEAD');

    for (const path of ['waggle%2F1-bump', 'waggle/1-bump']) {
      const branch = await call<Branch>(github(), 'carol', 'GET', `/repos/alice/${name}/branches/${path}`);
      assert.equal(branch.status, 200);
      assert.equal(branch.body.name, 'waggle/1-bump');
      assert.equal(branch.body.commit.sha, pushed);
      assert.equal(branch.body.commit.commit.message, 'Bump the app');
      assert.deepEqual(
        branch.body.commit.parents.map((p) => p.sha),
        [main],
      );
      assert.equal(branch.body.protected, false);
    }
    const missing = await call<ErrorBody>(github(), 'carol', 'GET', `/repos/alice/${name}/branches/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'Branch not found');
  });

  it('forks once into the caller’s account as a bare clone of the source', async () => {
    const name = await freshRepo(github());
    const first = await call<GithubRepo>(github(), 'carol', 'POST', `/repos/alice/${name}/forks`, {});
    assert.equal(first.status, 202);
    assert.equal(first.body.full_name, `carol/${name}`);
    assert.equal(first.body.fork, true);
    assert.equal(first.body.parent?.full_name, `alice/${name}`);
    assert.equal(first.body.source?.full_name, `alice/${name}`);
    assert.equal(first.body.permissions?.push, true);
    const again = await call<GithubRepo>(github(), 'carol', 'POST', `/repos/alice/${name}/forks`);
    assert.equal(again.status, 202);
    assert.equal(again.body.id, first.body.id);
    assert.deepEqual(github().forks('alice', name), [`carol/${name}`]);
    const sha = async (url: string) =>
      present((await git(dir(), 'ls-remote', url, 'refs/heads/main')).split('\t')[0], `main of ${url}`);
    const upstream = (await call<GithubRepo>(github(), 'carol', 'GET', `/repos/alice/${name}`)).body;
    assert.match(await sha(first.body.clone_url), /^[0-9a-f]{40}$/);
    assert.equal(await sha(first.body.clone_url), await sha(upstream.clone_url));
    assert.equal(upstream.forks_count, 1);
  });
});

describe('FakeGithub: issues', () => {
  const { github } = useGithub();

  it('creates issues: 201 with labels for a pusher, labels silently dropped for others, 422 without a title', async () => {
    const name = await freshRepo(github());
    const byBob = await call<GithubIssue>(github(), 'bob', 'POST', `/repos/alice/${name}/issues`, {
      title: 'One',
      body: 'b',
      labels: ['bug'],
    });
    assert.equal(byBob.status, 201);
    assert.equal(byBob.headers.get('location'), byBob.body.url);
    assert.equal(byBob.body.number, 1);
    assert.equal(byBob.body.state, 'open');
    assert.equal(byBob.body.state_reason, null);
    assert.equal(byBob.body.author_association, 'COLLABORATOR');
    assert.deepEqual(
      byBob.body.labels.map((l) => [l.name, l.color, l.default, l.description]),
      [['bug', 'ededed', false, null]],
    );
    assert.match(byBob.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const byCarol = await call<GithubIssue>(github(), 'carol', 'POST', `/repos/alice/${name}/issues`, {
      title: 'Two',
      labels: ['bug'],
    });
    assert.equal(byCarol.status, 201);
    assert.equal(byCarol.body.number, 2);
    assert.equal(byCarol.body.body, null);
    assert.deepEqual(byCarol.body.labels, []);
    const untitled = await call<ErrorBody>(github(), 'bob', 'POST', `/repos/alice/${name}/issues`, {
      body: 'no title',
    });
    assert.equal(untitled.status, 422);
    assert.deepEqual(untitled.body, {
      message: 'Validation Failed',
      errors: [{ resource: 'Issue', code: 'missing_field', field: 'title' }],
      documentation_url: 'https://docs.github.com/rest/issues/issues#create-an-issue',
      status: '422',
    });
    assert.deepEqual(
      github()
        .issues('alice', name)
        .map((i) => i.title),
      ['One', 'Two'],
    );
  });

  it('filters by state and by every label, case-insensitively', async () => {
    const name = await freshRepo(github());
    github().openIssue('alice', name, { title: 'a', labels: ['waggle:queued', 'bug'], user: 'dave' });
    github().openIssue('alice', name, { title: 'b', labels: ['waggle:queued'], user: 'dave' });
    github().openIssue('alice', name, { title: 'c', user: 'dave' });
    await call(github(), 'alice', 'PATCH', `/repos/alice/${name}/issues/3`, { state: 'closed' });
    const titles = async (query: string) =>
      (await call<GithubIssue[]>(github(), 'bob', 'GET', `/repos/alice/${name}/issues?${query}`)).body.map(
        (i) => i.title,
      );
    assert.deepEqual(await titles(''), ['b', 'a']);
    assert.deepEqual(await titles('direction=asc'), ['a', 'b']);
    assert.deepEqual(await titles('state=closed'), ['c']);
    assert.deepEqual(await titles('state=all'), ['c', 'b', 'a']);
    assert.deepEqual(await titles('labels=WAGGLE:QUEUED'), ['b', 'a']);
    assert.deepEqual(await titles('labels=waggle%3Aqueued,Bug'), ['a']);
    assert.deepEqual(await titles('labels=waggle:queued,other'), []);
  });

  it('pages with a link header, and answers a matching If-None-Match with a free 304', async () => {
    const name = await freshRepo(github());
    for (let i = 1; i <= 5; i++) {
      github().openIssue('alice', name, { title: `#${i}`, user: 'dave' });
    }
    const path = `/repos/alice/${name}/issues?per_page=2`;
    const first = await call<GithubIssue[]>(github(), 'bob', 'GET', path);
    assert.deepEqual(
      first.body.map((i) => i.number),
      [5, 4],
    );
    const base = `${github().url}/repos/alice/${name}/issues?per_page=2`;
    assert.equal(first.headers.get('link'), `<${base}&page=2>; rel="next", <${base}&page=3>; rel="last"`);
    const last = await call<GithubIssue[]>(github(), 'bob', 'GET', `${path}&page=3`);
    assert.deepEqual(
      last.body.map((i) => i.number),
      [1],
    );
    assert.equal(last.headers.get('link'), `<${base}&page=2>; rel="prev", <${base}&page=1>; rel="first"`);

    const etag = first.headers.get('etag') ?? '';
    assert.match(etag, /^W\/"[0-9a-f]{64}"$/);
    const before = Number((await call(github(), 'bob', 'GET', '/user')).headers.get('x-ratelimit-remaining'));
    const cached = await call(github(), 'bob', 'GET', path, undefined, { 'if-none-match': etag });
    assert.equal(cached.status, 304);
    assert.equal(cached.body, undefined);
    assert.equal(Number(cached.headers.get('x-ratelimit-remaining')), before);
    github().openIssue('alice', name, { title: '#6', user: 'dave' });
    const changed = await call<GithubIssue[]>(github(), 'bob', 'GET', path, undefined, { 'if-none-match': etag });
    assert.equal(changed.status, 200);
    assert.equal(changed.body[0]?.number, 6);
    assert.equal(Number(changed.headers.get('x-ratelimit-remaining')), before - 1);
  });

  it('adds a label once, removes it by its encoded name, 404s one it lacks, and keeps it all in the timeline', async () => {
    const name = await freshRepo(github());
    const { number } = github().openIssue('alice', name, { title: 'Fix it', labels: ['bug'], user: 'dave' });
    const labels = `/repos/alice/${name}/issues/${number}/labels`;
    const added = await call<GithubLabel[]>(github(), 'bob', 'POST', labels, { labels: ['waggle:queued', 'BUG'] });
    assert.equal(added.status, 200);
    assert.deepEqual(
      added.body.map((l) => l.name),
      ['bug', 'waggle:queued'],
    );
    await call(github(), 'bob', 'POST', labels, { labels: ['waggle:queued'] });
    const refused = await call<ErrorBody>(github(), 'carol', 'POST', labels, { labels: ['mine'] });
    assert.equal(refused.status, 403);
    const removed = await call<GithubLabel[]>(github(), 'bob', 'DELETE', `${labels}/waggle%3Aqueued`);
    assert.equal(removed.status, 200);
    assert.deepEqual(
      removed.body.map((l) => l.name),
      ['bug'],
    );
    const absent = await call<ErrorBody>(github(), 'bob', 'DELETE', `${labels}/waggle%3Aqueued`);
    assert.equal(absent.status, 404);
    assert.equal(absent.body.message, 'Label does not exist');
    assert.deepEqual(
      github()
        .timeline('alice', name, number)
        .map((e) => [e.event, e.label, e.actor]),
      [
        ['labeled', 'bug', 'dave'],
        ['labeled', 'waggle:queued', 'bob'],
        ['unlabeled', 'waggle:queued', 'bob'],
      ],
    );
  });

  it('keeps comments and their edits in the timeline; only the author or a pusher may edit one', async () => {
    const name = await freshRepo(github());
    const { number } = github().openIssue('alice', name, { title: 'Q', user: 'dave' });
    const asked = github().addIssueComment('alice', name, number, 'dave', 'Any news?');
    const posted = await call<GithubComment>(
      github(),
      'bob',
      'POST',
      `/repos/alice/${name}/issues/${number}/comments`,
      { body: 'On it' },
    );
    assert.equal(posted.status, 201);
    assert.equal(posted.body.user.login, 'bob');
    assert.equal(posted.body.issue_url, `${github().url}/repos/alice/${name}/issues/${number}`);
    assert.match(posted.body.html_url, new RegExp(`/issues/${number}#issuecomment-${posted.body.id}$`));
    const path = `/repos/alice/${name}/issues/comments/${posted.body.id}`;
    assert.equal((await call(github(), 'carol', 'PATCH', path, { body: 'hijack' })).status, 403);
    const edited = await call<GithubComment>(github(), 'bob', 'PATCH', path, { body: 'Done' });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.body, 'Done');
    const listed = await call<GithubComment[]>(
      github(),
      'carol',
      'GET',
      `/repos/alice/${name}/issues/${number}/comments`,
    );
    assert.deepEqual(
      listed.body.map((c) => [c.id, c.user.login, c.body]),
      [
        [asked.id, 'dave', 'Any news?'],
        [posted.body.id, 'bob', 'Done'],
      ],
    );
    assert.equal(github().issue('alice', name, number)?.comments, 2);
    assert.deepEqual(
      github()
        .timeline('alice', name, number)
        .map((e) => [e.event, e.commentId, e.body, e.actor]),
      [
        ['commented', asked.id, 'Any news?', 'dave'],
        ['commented', posted.body.id, 'On it', 'bob'],
        ['comment_edited', posted.body.id, 'Done', 'bob'],
      ],
    );
  });

  it('closes and reopens through PATCH; a stranger may not edit someone else’s issue', async () => {
    const name = await freshRepo(github());
    const { number } = github().openIssue('alice', name, { title: 'Old', user: 'dave' });
    const path = `/repos/alice/${name}/issues/${number}`;
    assert.equal((await call(github(), 'carol', 'PATCH', path, { state: 'closed' })).status, 403);
    assert.equal((await call(github(), 'bob', 'PATCH', path, { state: 'shut' })).status, 422);
    const closed = await call<GithubIssue>(github(), 'bob', 'PATCH', path, { state: 'closed', title: 'New' });
    assert.equal(closed.status, 200);
    assert.equal(closed.body.title, 'New');
    assert.equal(closed.body.state, 'closed');
    assert.equal(closed.body.state_reason, 'completed');
    assert.match(closed.body.closed_at ?? '', /Z$/);
    const reopened = await call<GithubIssue>(github(), 'alice', 'PATCH', path, { state: 'open' });
    assert.equal(reopened.body.state_reason, 'reopened');
    assert.equal(reopened.body.closed_at, null);
    assert.deepEqual(
      github()
        .timeline('alice', name, number)
        .map((e) => [e.event, e.actor]),
      [
        ['closed', 'bob'],
        ['reopened', 'alice'],
      ],
    );
  });
});

describe('FakeGithub: pull requests', () => {
  const { github, dir } = useGithub();

  it('opens a pull request from a pushed fork branch, and refuses what GitHub refuses', async () => {
    const name = await freshRepo(github());
    github().openIssue('alice', name, { title: 'Broken', user: 'dave' });
    const fork = (await call<GithubRepo>(github(), 'carol', 'POST', `/repos/alice/${name}/forks`)).body;
    const tree = join(dir(), `${name}-carol`);
    await git(dir(), 'clone', '--quiet', fork.clone_url, tree);
    await writeFile(join(tree, 'fix.txt'), 'fixed\n');
    await git(tree, 'add', 'fix.txt');
    await git(tree, 'commit', '--quiet', '-m', 'Fix #1');
    await git(tree, 'push', '--quiet', 'origin', 'HEAD:refs/heads/fix');
    await git(tree, 'push', '--quiet', 'origin', 'origin/main:refs/heads/same');
    const pushed = await git(tree, 'rev-parse', 'HEAD');
    const pulls = `/repos/alice/${name}/pulls`;
    const ask = { title: 'Fix #1', head: 'carol:fix', base: 'main', body: 'Fixes #1' };

    const opened = await call<GithubPull>(github(), 'carol', 'POST', pulls, ask);
    assert.equal(opened.status, 201);
    assert.equal(opened.body.number, 2, 'shares the issue numbers');
    assert.equal(opened.body.state, 'open');
    assert.equal(opened.body.merged, false);
    assert.equal(opened.body.draft, false);
    assert.deepEqual(
      [opened.body.head.label, opened.body.head.ref, opened.body.head.sha],
      ['carol:fix', 'fix', pushed],
    );
    assert.equal(opened.body.head.repo.full_name, `carol/${name}`);
    assert.equal(opened.body.base.label, 'alice:main');
    assert.equal(opened.body.base.repo.full_name, `alice/${name}`);

    const asIssues = (await call<GithubIssue[]>(github(), 'bob', 'GET', `/repos/alice/${name}/issues`)).body;
    assert.deepEqual(
      asIssues.map((i) => [i.number, i.pull_request?.url]),
      [
        [2, `${github().url}${pulls}/2`],
        [1, undefined],
      ],
    );
    const byHead = async (head: string) =>
      (await call<GithubPull[]>(github(), 'bob', 'GET', `${pulls}?head=${head}&state=open`)).body.map((p) => p.number);
    assert.deepEqual(await byHead('carol:fix'), [2]);
    assert.deepEqual(await byHead('carol:other'), []);

    const refusal = async (who: Person, body: object) => {
      const answer = await call<ErrorBody>(github(), who, 'POST', pulls, body);
      assert.equal(answer.status, 422);
      return answer.body.errors?.[0];
    };
    assert.deepEqual(await refusal('carol', ask), {
      resource: 'PullRequest',
      code: 'custom',
      message: 'A pull request already exists for carol:fix.',
    });
    assert.deepEqual(await refusal('carol', { ...ask, head: 'carol:nope' }), {
      resource: 'PullRequest',
      code: 'invalid',
      field: 'head',
    });
    assert.deepEqual(
      await refusal('bob', { ...ask, base: 'develop' }),
      { resource: 'PullRequest', code: 'invalid', field: 'head' },
      'bob cannot push to the fork',
    );
    assert.deepEqual(await refusal('carol', { ...ask, base: 'develop' }), {
      resource: 'PullRequest',
      code: 'invalid',
      field: 'base',
    });
    assert.deepEqual(await refusal('carol', { ...ask, head: 'carol:same' }), {
      resource: 'PullRequest',
      code: 'custom',
      message: 'No commits between main and carol:same',
    });
    assert.equal(github().pulls('alice', name).length, 1);
  });

  it('follows later pushes to the head, and closes the issue with the pull request', async () => {
    const name = await freshRepo(github());
    const tree = join(dir(), `${name}-bob`);
    const { clone_url } = (await call<GithubRepo>(github(), 'bob', 'GET', `/repos/alice/${name}`)).body;
    await git(dir(), 'clone', '--quiet', clone_url, tree);
    await git(tree, 'commit', '--quiet', '--allow-empty', '-m', 'one');
    await git(tree, 'push', '--quiet', 'origin', 'HEAD:refs/heads/work');
    const opened = await call<GithubPull>(github(), 'bob', 'POST', `/repos/alice/${name}/pulls`, {
      title: 'Work',
      head: 'work',
      base: 'main',
    });
    assert.equal(opened.status, 201);
    assert.equal(opened.body.head.label, 'alice:work');
    await git(tree, 'commit', '--quiet', '--allow-empty', '-m', 'two');
    await git(tree, 'push', '--quiet', 'origin', 'HEAD:refs/heads/work');
    const path = `/repos/alice/${name}/pulls/${opened.body.number}`;
    assert.equal(
      (await call<GithubPull>(github(), 'carol', 'GET', path)).body.head.sha,
      await git(tree, 'rev-parse', 'HEAD'),
    );

    const closed = await call<GithubPull>(github(), 'bob', 'PATCH', path, { state: 'closed', body: 'never mind' });
    assert.equal(closed.status, 200);
    assert.equal(closed.body.state, 'closed');
    assert.equal(closed.body.body, 'never mind');
    assert.equal(github().issue('alice', name, opened.body.number)?.state, 'closed');
    const reopened = await call<GithubPull>(github(), 'bob', 'POST', `/repos/alice/${name}/pulls`, {
      title: 'Again',
      head: 'work',
      base: 'main',
    });
    assert.equal(reopened.status, 201, 'a closed pull request does not block a new one');
    assert.deepEqual(
      github()
        .pulls('alice', name)
        .map((p) => [p.number, p.state]),
      [
        [1, 'closed'],
        [2, 'open'],
      ],
    );
  });
});

describe('FakeGithub: rate limits', () => {
  const { github } = useGithub();

  it('answers the primary limit with 403, remaining 0 and the reset asked for, then recovers', async () => {
    const me = (await call<GithubUser>(github(), 'alice', 'GET', '/user')).body;
    github().rateLimitNext(1, { status: 403, resetInSeconds: 120 });
    const unauthenticated = await call(github(), null, 'GET', '/user');
    assert.equal(unauthenticated.status, 401, 'no token: the limit is not spent on it');
    const limited = await call<ErrorBody>(github(), 'alice', 'GET', '/user');
    assert.equal(limited.status, 403);
    assert.deepEqual(limited.body, {
      message: `API rate limit exceeded for user ID ${me.id}.`,
      documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
      status: '403',
    });
    assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');
    const reset = Number(limited.headers.get('x-ratelimit-reset')) - Date.now() / 1000;
    assert.ok(reset > 115 && reset <= 121, `reset in ${reset} s`);
    assert.equal((await call(github(), 'alice', 'GET', '/user')).status, 200);
    assert.deepEqual(
      github().requests.map((r) => [r.status, r.rateLimited ?? false]),
      [
        [200, false],
        [401, false],
        [403, true],
        [200, false],
      ],
    );
  });

  it('answers the secondary limit with the status and retry-after asked for', async () => {
    github().rateLimitNext(2, { status: 429, retryAfterSeconds: 7 });
    for (let i = 0; i < 2; i++) {
      const limited = await call<ErrorBody>(github(), 'bob', 'POST', '/repos/alice/none/issues', { title: 'x' });
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '7');
      assert.match(limited.body.message, /^You have exceeded a secondary rate limit\./);
      assert.match(limited.body.message, new RegExp(limited.headers.get('x-github-request-id') ?? 'no id'));
    }
    assert.equal((await call(github(), 'bob', 'POST', '/repos/alice/none/issues', { title: 'x' })).status, 404);
  });
});

describe('FakeGithub: webhooks', () => {
  const { github } = useGithub();

  it('signs like GitHub (the example from its documentation)', () => {
    assert.equal(
      FakeGithub.sign("It's a Secret to Everybody", 'Hello, World!'),
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  it('delivers a signed, real-shaped issues event and returns the receiver’s answer', async () => {
    const name = await freshRepo(github());
    const { number } = github().openIssue('alice', name, { title: 'Hook me', user: 'dave' });
    await call(github(), 'bob', 'POST', `/repos/alice/${name}/issues/${number}/labels`, { labels: ['waggle:queued'] });
    const payload = github().issuesEvent('alice', name, number, 'labeled', 'waggle:queued');
    assert.deepEqual(Object.keys(payload), ['action', 'issue', 'label', 'repository', 'sender']);

    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      const answer = await FakeGithub.deliver(`http://127.0.0.1:${port}/webhook`, {
        event: 'issues',
        deliveryId: 'd-1',
        payload,
        secret: 's3cret',
      });
      assert.deepEqual(answer, { status: 202, body: { ok: true } });
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
    const { headers, body } = present(received[0], 'the delivered webhook');
    assert.equal(headers['x-github-event'], 'issues');
    assert.equal(headers['x-github-delivery'], 'd-1');
    assert.equal(headers['user-agent'], 'GitHub-Hookshot/abc');
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['x-hub-signature-256'], `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
    const event = JSON.parse(body) as {
      action: string;
      issue: GithubIssue;
      label: GithubLabel;
      repository: GithubRepo;
      sender: GithubUser;
    };
    assert.equal(event.action, 'labeled');
    assert.equal(event.issue.number, number);
    assert.deepEqual(
      event.issue.labels.map((l) => l.name),
      ['waggle:queued'],
    );
    assert.equal(event.label.name, 'waggle:queued');
    assert.equal(event.repository.full_name, `alice/${name}`);
    assert.equal(event.repository.permissions, undefined);
    assert.equal(event.sender.login, 'bob', 'the sender is who labeled it');
    assert.equal(github().issuesEvent('alice', name, number, 'opened').sender.login, 'dave');
  });
});
