import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';

import { childEnvironment } from '@waggle/config';

import { closeServer, listenLocal, trackSockets } from './local-server';

export interface FakeGithubOptions {
  /** Where the bare repositories live, as `<dir>/<owner>/<name>.git`. */
  dir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
}

export interface FakeGithubRequest {
  method: string;
  /** As sent, query string included. */
  path: string;
  /** Whose token it was; null when there was none or it was unknown. The token itself is never kept. */
  login: string | null;
  at: number;
  /** The status answered; 0 while the request is still being answered. */
  status: number;
  /** Parsed JSON; the raw text if it was not JSON; undefined if empty. */
  body?: unknown;
  /** Answered with a rate-limit error set up by `rateLimitNext`. */
  rateLimited?: true;
}

export interface GithubUser {
  login: string;
  id: number;
  node_id: string;
  avatar_url: string;
  gravatar_id: string;
  url: string;
  html_url: string;
  repos_url: string;
  type: 'User';
  user_view_type: 'public';
  site_admin: boolean;
}

export interface GithubLabel {
  id: number;
  node_id: string;
  url: string;
  name: string;
  color: string;
  default: boolean;
  description: string | null;
}

export interface GithubPermissions {
  admin: boolean;
  maintain: boolean;
  push: boolean;
  triage: boolean;
  pull: boolean;
}

export interface GithubRepo {
  id: number;
  node_id: string;
  name: string;
  full_name: string;
  private: boolean;
  owner: GithubUser;
  html_url: string;
  description: string | null;
  fork: boolean;
  url: string;
  issues_url: string;
  pulls_url: string;
  /** `file://` and the bare repository's absolute path: git clones, fetches and pushes with it. */
  clone_url: string;
  created_at: string;
  updated_at: string;
  homepage: string | null;
  size: number;
  has_issues: boolean;
  forks_count: number;
  open_issues_count: number;
  archived: boolean;
  disabled: boolean;
  visibility: 'public';
  default_branch: string;
  /** The caller's; absent where GitHub leaves it out (webhooks, nested repos). */
  permissions?: GithubPermissions;
  /** Forks only: the repository forked, and the root of the fork network. */
  parent?: GithubRepo;
  source?: GithubRepo;
}

export type AuthorAssociation = 'OWNER' | 'COLLABORATOR' | 'NONE';

export interface GithubIssue {
  url: string;
  repository_url: string;
  labels_url: string;
  comments_url: string;
  events_url: string;
  html_url: string;
  id: number;
  node_id: string;
  number: number;
  title: string;
  user: GithubUser;
  labels: GithubLabel[];
  state: 'open' | 'closed';
  locked: boolean;
  assignee: GithubUser | null;
  assignees: GithubUser[];
  milestone: null;
  comments: number;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  author_association: AuthorAssociation;
  body: string | null;
  state_reason: 'completed' | 'not_planned' | 'reopened' | null;
  /** Pull requests only: an issue that is a pull request says so here, as on GitHub. */
  draft?: boolean;
  pull_request?: { url: string; html_url: string; diff_url: string; patch_url: string; merged_at: string | null };
}

export interface GithubComment {
  url: string;
  html_url: string;
  issue_url: string;
  id: number;
  node_id: string;
  user: GithubUser;
  created_at: string;
  updated_at: string;
  author_association: AuthorAssociation;
  body: string;
}

export interface GithubPullRef {
  /** `owner:branch`. */
  label: string;
  ref: string;
  sha: string;
  user: GithubUser;
  repo: GithubRepo;
}

export interface GithubPull {
  url: string;
  id: number;
  node_id: string;
  html_url: string;
  diff_url: string;
  patch_url: string;
  issue_url: string;
  number: number;
  state: 'open' | 'closed';
  locked: boolean;
  title: string;
  user: GithubUser;
  body: string | null;
  labels: GithubLabel[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  merged_at: string | null;
  merge_commit_sha: string | null;
  assignee: GithubUser | null;
  assignees: GithubUser[];
  requested_reviewers: GithubUser[];
  head: GithubPullRef;
  base: GithubPullRef;
  author_association: AuthorAssociation;
  draft: boolean;
  merged: boolean;
  mergeable: boolean | null;
  comments: number;
}

export interface TimelineEntry {
  event: 'labeled' | 'unlabeled' | 'commented' | 'comment_edited' | 'closed' | 'reopened';
  label?: string;
  commentId?: number;
  body?: string;
  actor: string;
  at: number;
}

export interface RateLimit {
  status: 403 | 429;
  /** Given: a secondary rate limit, answered with `retry-after`. Otherwise the primary one. */
  retryAfterSeconds?: number;
  /** The primary limit's `x-ratelimit-reset`, from now; 60 unless given. */
  resetInSeconds?: number;
  /** Only requests whose path (query included) starts with this get the limit; others pass. */
  pathPrefix?: string;
}

export type IssuesAction = 'opened' | 'labeled' | 'unlabeled' | 'edited' | 'reopened' | 'closed';

export interface IssuesEventPayload {
  action: IssuesAction;
  issue: GithubIssue;
  repository: GithubRepo;
  sender: GithubUser;
  label?: GithubLabel;
}

interface UserState {
  login: string;
  id: number;
  created: number;
}

interface RepoState {
  id: number;
  owner: string;
  name: string;
  defaultBranch: string;
  created: number;
  /** Lower-case logins with push; the owner has it anyway. */
  collaborators: Set<string>;
  forkOf?: RepoState;
  /** By lower-case name: GitHub matches label names case-insensitively. */
  labels: Map<string, GithubLabel>;
  /** Issue number n is at n - 1: pull requests take numbers from the same sequence. */
  issues: IssueState[];
}

interface IssueState {
  id: number;
  number: number;
  title: string;
  body: string | null;
  user: string;
  state: 'open' | 'closed';
  stateReason: GithubIssue['state_reason'];
  labels: GithubLabel[];
  comments: CommentState[];
  created: number;
  updated: number;
  closed: number | null;
  timeline: TimelineEntry[];
  pull?: PullState;
}

interface PullState {
  id: number;
  headRepo: RepoState;
  headRef: string;
  headSha: string;
  baseRef: string;
  baseSha: string;
  draft: boolean;
}

interface CommentState {
  id: number;
  user: string;
  body: string;
  created: number;
  updated: number;
}

interface Reply {
  status: number;
  headers: OutgoingHttpHeaders;
  body: string;
}

interface Ctx {
  caller: UserState;
  params: Record<string, string>;
  url: URL;
  /** The JSON body when it is an object, else empty. */
  fields: Record<string, unknown>;
  body: unknown;
  /** The documentation_url error bodies carry. */
  docs: string;
}

/** A path parameter its route declares (`:name`); missing means the route table is wrong. */
function param(c: Ctx, name: string): string {
  const value = c.params[name];
  if (value === undefined) {
    throw new Error(`fake GitHub: the route has no :${name}`);
  }
  return value;
}

interface Route {
  method: string;
  pattern: RegExp;
  docs: string;
  handle: (ctx: Ctx) => Reply | Promise<Reply>;
}

interface Bucket {
  limit: number;
  used: number;
  /** Epoch seconds. */
  reset: number;
}

type Parsed = { ok: true; value: unknown } | { ok: false };

const DOCS = 'https://docs.github.com/rest';
const RATE_DOCS = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';
const SECONDARY_DOCS =
  'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits';
const FORBIDDEN = 'Must have admin rights to Repository.';
const LABEL_COLOR = 'ededed';
const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * A local stand-in for the GitHub REST API (the subset a bot and a node-agent use), with
 * GitHub's JSON shapes, status codes, headers and validation, so end-to-end tests run
 * without the internet. Repositories are real bare git repositories under `dir` whose
 * `clone_url` is a `file://` URL, so the real git CLI clones from and pushes to them and
 * the API answers from what was really pushed. Tests play the people (`openIssue`,
 * `addIssueComment`), read the outcome back (`timeline`, `pulls`) and make the API
 * misbehave the way GitHub does (`rateLimitNext`).
 */
export class FakeGithub {
  readonly requests: FakeGithubRequest[] = [];
  private readonly dir: string;
  private readonly users = new Map<string, UserState>();
  private readonly tokens = new Map<string, UserState>();
  private readonly repos = new Map<string, RepoState>();
  /** Repositories whose bare repository is being made, so two makers cannot race. */
  private readonly making = new Set<string>();
  private readonly forking = new Map<string, Promise<RepoState>>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly limits: RateLimit[] = [];
  private readonly ids = { user: 1, repo: 1, issue: 1, pull: 1, comment: 1, label: 1 };
  private readonly sockets: Set<Socket>;
  private readonly server: Server;
  private port = 0;

  private readonly routes: Route[] = [
    this.route('GET', '/user', 'users/users#get-the-authenticated-user', (c) => this.getAuthenticatedUser(c)),
    this.repoRoute('GET', '', 'repos/repos#get-a-repository', (c, r) => this.getRepo(c, r)),
    this.repoRoute('POST', '/forks', 'repos/forks#create-a-fork', (c, r) => this.createFork(c, r)),
    this.repoRoute('GET', '/issues', 'issues/issues#list-repository-issues', (c, r) => this.listIssues(c, r)),
    this.repoRoute('POST', '/issues', 'issues/issues#create-an-issue', (c, r) => this.createIssue(c, r)),
    this.repoRoute('PATCH', '/issues/comments/:id', 'issues/comments#update-an-issue-comment', (c, r) =>
      this.editComment(c, r),
    ),
    this.repoRoute('GET', '/issues/:number', 'issues/issues#get-an-issue', (c, r) => this.getIssue(c, r)),
    this.repoRoute('PATCH', '/issues/:number', 'issues/issues#update-an-issue', (c, r) => this.editIssue(c, r)),
    this.repoRoute('GET', '/issues/:number/comments', 'issues/comments#list-issue-comments', (c, r) =>
      this.listComments(c, r),
    ),
    this.repoRoute('POST', '/issues/:number/comments', 'issues/comments#create-an-issue-comment', (c, r) =>
      this.createComment(c, r),
    ),
    this.repoRoute('GET', '/issues/:number/labels', 'issues/labels#list-labels-for-an-issue', (c, r) =>
      this.listLabels(c, r),
    ),
    this.repoRoute('POST', '/issues/:number/labels', 'issues/labels#add-labels-to-an-issue', (c, r) =>
      this.changeLabels(c, r, 'add'),
    ),
    this.repoRoute('PUT', '/issues/:number/labels', 'issues/labels#set-labels-for-an-issue', (c, r) =>
      this.changeLabels(c, r, 'set'),
    ),
    this.repoRoute('DELETE', '/issues/:number/labels/:name', 'issues/labels#remove-a-label-from-an-issue', (c, r) =>
      this.removeLabel(c, r),
    ),
    this.repoRoute('GET', '/pulls', 'pulls/pulls#list-pull-requests', (c, r) => this.listPulls(c, r)),
    this.repoRoute('POST', '/pulls', 'pulls/pulls#create-a-pull-request', (c, r) => this.createPull(c, r)),
    this.repoRoute('GET', '/pulls/:number', 'pulls/pulls#get-a-pull-request', (c, r) => this.getPull(c, r)),
    this.repoRoute('PATCH', '/pulls/:number', 'pulls/pulls#update-a-pull-request', (c, r) => this.editPull(c, r)),
    this.repoRoute('GET', '/branches/:branch+', 'branches/branches#get-a-branch', (c, r) => this.getBranch(c, r)),
  ];

  private constructor(options: FakeGithubOptions) {
    this.dir = resolve(options.dir);
    this.server = createServer((req, res) => {
      // A handler failure must not leave the client waiting.
      void this.handle(req, res).catch(() => res.destroy());
    });
    this.sockets = trackSockets(this.server);
  }

  static async start(options: FakeGithubOptions): Promise<FakeGithub> {
    const github = new FakeGithub(options);
    const server = github.server;
    await mkdir(github.dir, { recursive: true });
    github.port = await listenLocal(server, options.port ?? 0, 'fake GitHub');
    return github;
  }

  /** The API root: Octokit's `baseUrl`. Web links (`html_url`) are under it too, as on GitHub Enterprise. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await closeServer(this.server, this.sockets);
  }

  /** `'sha256='` and the hex HMAC-SHA256 of `body`: GitHub's X-Hub-Signature-256. */
  static sign(secret: string, body: string): string {
    return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  }

  /** POSTs a webhook the way GitHub's Hookshot does, signed with `secret`; the reply's body is parsed JSON when it is JSON. */
  static async deliver(
    url: string,
    options: {
      event: string;
      deliveryId: string;
      payload: unknown;
      secret: string;
      /** GitHub's webhook form offers both; `form` (its default) sends `payload=<the JSON, URL-encoded>`. */
      contentType?: 'json' | 'form';
    },
  ): Promise<{ status: number; body: unknown }> {
    const json = JSON.stringify(options.payload);
    const form = options.contentType === 'form';
    const body = form ? new URLSearchParams({ payload: json }).toString() : json;
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
        'user-agent': 'GitHub-Hookshot/abc',
        'x-github-event': options.event,
        'x-github-delivery': options.deliveryId,
        'x-github-hook-id': '1',
        'x-hub-signature': `sha1=${createHmac('sha1', options.secret).update(body).digest('hex')}`,
        'x-hub-signature-256': FakeGithub.sign(options.secret, body),
      },
      body,
    });
    const text = await response.text();
    const parsed = parseJson(text);
    return { status: response.status, body: text === '' ? undefined : parsed.ok ? parsed.value : text };
  }

  addUser(login: string, token: string): void {
    this.tokens.set(token, this.user(login));
  }

  /**
   * A bare repository with one commit on `defaultBranch` ('main') holding `files` (a README.md
   * unless given). The owner and `collaborators` may push; every authenticated caller may pull.
   */
  async createRepo(
    owner: string,
    name: string,
    options: { collaborators?: string[]; files?: Record<string, string>; defaultBranch?: string } = {},
  ): Promise<void> {
    const branch = options.defaultBranch ?? 'main';
    if (!validBranch(branch)) {
      throw new Error(`fake GitHub: bad branch name ${branch}`);
    }
    const repo = await this.makeRepo(owner, name, branch, async (path) => {
      await git(['init', '--bare', '--quiet', `--initial-branch=${branch}`, path]);
      await commitFiles(path, branch, options.files ?? { 'README.md': `# ${name}\n` }, owner);
    });
    for (const login of options.collaborators ?? []) {
      this.addCollaborator(owner, repo.name, login);
    }
  }

  addCollaborator(owner: string, name: string, login: string): void {
    this.mustRepo(owner, name).collaborators.add(this.user(login).login.toLowerCase());
  }

  barePath(owner: string, name: string): string {
    const repo = this.findRepo(owner, name);
    return join(this.dir, repo?.owner ?? owner, `${repo?.name ?? name}.git`);
  }

  /** As if a person opened it in the web UI: its labels are in the timeline as theirs. */
  openIssue(
    owner: string,
    name: string,
    issue: { title: string; body?: string; labels?: string[]; user: string },
  ): GithubIssue {
    const repo = this.mustRepo(owner, name);
    return this.renderIssue(
      repo,
      this.addIssue(repo, this.user(issue.user).login, issue.title, issue.body ?? null, issue.labels ?? []),
    );
  }

  /** A person's comment. */
  addIssueComment(owner: string, name: string, number: number, user: string, body: string): GithubComment {
    const repo = this.mustRepo(owner, name);
    const issue = repo.issues[number - 1];
    if (!issue) {
      throw new Error(`fake GitHub: ${repo.owner}/${repo.name} has no issue #${number}`);
    }
    return this.renderComment(repo, issue, this.addComment(issue, this.user(user).login, body));
  }

  issue(owner: string, name: string, number: number): GithubIssue | undefined {
    const repo = this.findRepo(owner, name);
    const issue = repo?.issues[number - 1];
    return repo && issue ? this.renderIssue(repo, issue) : undefined;
  }

  comments(owner: string, name: string, number: number): GithubComment[] {
    const repo = this.findRepo(owner, name);
    const issue = repo?.issues[number - 1];
    return repo && issue ? issue.comments.map((comment) => this.renderComment(repo, issue, comment)) : [];
  }

  /** Every pull request, open or closed, by number. */
  pulls(owner: string, name: string): GithubPull[] {
    const repo = this.findRepo(owner, name);
    return repo ? repo.issues.filter((issue) => issue.pull).map((issue) => this.renderPull(repo, issue)) : [];
  }

  /** Every issue, open or closed, by number; pull requests too (they are issues, as in the API). */
  issues(owner: string, name: string): GithubIssue[] {
    const repo = this.findRepo(owner, name);
    return repo ? repo.issues.map((issue) => this.renderIssue(repo, issue)) : [];
  }

  timeline(owner: string, name: string, number: number): TimelineEntry[] {
    return (this.findRepo(owner, name)?.issues[number - 1]?.timeline ?? []).map((entry) => ({ ...entry }));
  }

  /** Full names of the forks made of this repository. */
  forks(owner: string, name: string): string[] {
    const repo = this.findRepo(owner, name);
    return [...this.repos.values()].filter((r) => repo && r.forkOf === repo).map((r) => `${r.owner}/${r.name}`);
  }

  /** The next `count` authenticated requests get GitHub's rate-limit answer instead of theirs. */
  rateLimitNext(count: number, limit: RateLimit): void {
    for (let i = 0; i < count; i++) {
      this.limits.push(limit);
    }
  }

  /** A real-shaped `issues` webhook payload; the sender is whoever last did `action` (the author if nobody). */
  issuesEvent(owner: string, name: string, number: number, action: IssuesAction, label?: string): IssuesEventPayload {
    const repo = this.mustRepo(owner, name);
    const issue = repo.issues[number - 1];
    if (!issue) {
      throw new Error(`fake GitHub: ${repo.owner}/${repo.name} has no issue #${number}`);
    }
    const done = issue.timeline.findLast(
      (e) => e.event === action && (label === undefined || e.label?.toLowerCase() === label.toLowerCase()),
    );
    return {
      action,
      issue: this.renderIssue(repo, issue),
      ...(label === undefined ? {} : { label: { ...this.labelFor(repo, label) } }),
      repository: this.renderRepo(repo),
      sender: this.renderUser(done?.actor ?? issue.user),
    };
  }

  // --- HTTP ---

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.on('error', () => undefined);
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    const parsed: Parsed = raw === '' ? { ok: true, value: undefined } : parseJson(raw);
    const caller = this.authenticate(req.headers.authorization);
    const entry: FakeGithubRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      login: caller?.login ?? null,
      at: Date.now(),
      status: 0,
    };
    if (raw !== '') {
      entry.body = parsed.ok ? parsed.value : raw;
    }
    this.requests.push(entry);
    let reply: Reply;
    try {
      reply = await this.answer(entry, caller, parsed, req.headers);
    } catch (error) {
      // A fake's own bug: say what it was rather than hang or drop the connection.
      const reason = error instanceof Error ? error.message : String(error);
      reply = this.finish(
        json(500, { message: 'Server Error', fake_github_error: reason }),
        this.bucket(caller),
        false,
      );
    }
    entry.status = reply.status;
    res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
    res.end(reply.body);
  }

  private async answer(
    entry: FakeGithubRequest,
    caller: UserState | undefined,
    parsed: Parsed,
    headers: IncomingHttpHeaders,
  ): Promise<Reply> {
    const bucket = this.bucket(caller);
    if (!caller) {
      return this.finish(githubError(401, 'Bad credentials', DOCS), bucket, true);
    }
    const at = this.limits.findIndex((l) => !l.pathPrefix || entry.path.startsWith(l.pathPrefix));
    const limit = at >= 0 ? this.limits.splice(at, 1)[0] : undefined;
    if (limit) {
      entry.rateLimited = true;
      return this.rateLimited(caller, bucket, limit);
    }
    if (!parsed.ok) {
      return this.finish(githubError(400, 'Problems parsing JSON', DOCS), bucket, true);
    }
    // Concatenated, not resolved: a path like //x is a path here, not a host.
    const url = new URL(`${this.url}${entry.path}`);
    const reply = await this.dispatch(entry.method, url, caller, parsed.value);
    if (entry.method === 'GET' && reply.status === 200) {
      const etag = `W/"${createHash('sha256').update(reply.body).digest('hex')}"`;
      reply.headers.etag = etag;
      // A conditional request answered 304 is free, as on GitHub.
      const sent = (headers['if-none-match'] ?? '').split(',').map((tag) => tag.trim());
      if (sent.includes(etag)) {
        return this.finish({ status: 304, headers: { etag }, body: '' }, bucket, false);
      }
    }
    return this.finish(reply, bucket, true);
  }

  private dispatch(method: string, url: URL, caller: UserState, body: unknown): Reply | Promise<Reply> {
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    for (const route of this.routes) {
      const match = route.method === method ? route.pattern.exec(path) : null;
      if (!match) {
        continue;
      }
      const params: Record<string, string> = {};
      for (const [key, value] of Object.entries(match.groups ?? {})) {
        const decoded = decode(value);
        if (decoded === undefined) {
          return githubError(404, 'Not Found', DOCS);
        }
        params[key] = decoded;
      }
      return route.handle({ caller, params, url, body, fields: isRecord(body) ? body : {}, docs: route.docs });
    }
    return githubError(404, 'Not Found', DOCS);
  }

  /** `:name` is one path segment (`:number` and `:id` digits only), `:name+` the rest of the path. */
  private route(method: string, path: string, docs: string, handle: Route['handle']): Route {
    const source = path.replace(/:(\w+)(\+?)/g, (_, name: string, rest: string) => {
      const part = rest ? '.+' : name === 'number' || name === 'id' ? '\\d+' : '[^/]+';
      return `(?<${name}>${part})`;
    });
    return { method, pattern: new RegExp(`^${source}$`), docs: `${DOCS}/${docs}`, handle };
  }

  private repoRoute(
    method: string,
    path: string,
    docs: string,
    handle: (ctx: Ctx, repo: RepoState) => Reply | Promise<Reply>,
  ): Route {
    return this.route(method, `/repos/:owner/:repo${path}`, docs, (ctx) => {
      const repo = this.findRepo(param(ctx, 'owner'), param(ctx, 'repo'));
      return repo ? handle(ctx, repo) : githubError(404, 'Not Found', ctx.docs);
    });
  }

  private authenticate(authorization: string | undefined): UserState | undefined {
    const token = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    return token ? this.tokens.get(token) : undefined;
  }

  /** The caller's hourly allowance: 5000 with a token, 60 without, as on GitHub. */
  private bucket(caller: UserState | undefined): Bucket {
    const key = caller?.login.toLowerCase() ?? '';
    const now = Math.floor(Date.now() / 1000);
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.reset <= now) {
      bucket = { limit: caller ? 5000 : 60, used: 0, reset: now + 3600 };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** GitHub's headers on every answer; the reply's own headers win. */
  private finish(reply: Reply, bucket: Bucket, counts: boolean, requestId = newRequestId()): Reply {
    if (counts) {
      bucket.used = Math.min(bucket.limit, bucket.used + 1);
    }
    const headers: OutgoingHttpHeaders = {
      ...(reply.status === 304 ? {} : { 'content-type': 'application/json; charset=utf-8' }),
      'cache-control': 'private, max-age=60, s-maxage=60',
      vary: 'Accept, Authorization, Cookie, X-GitHub-OTP',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': requestId,
      'x-ratelimit-limit': String(bucket.limit),
      'x-ratelimit-remaining': String(bucket.limit - bucket.used),
      'x-ratelimit-reset': String(bucket.reset),
      'x-ratelimit-used': String(bucket.used),
      'x-ratelimit-resource': 'core',
    };
    return { ...reply, headers: { ...headers, ...reply.headers } };
  }

  private rateLimited(caller: UserState, bucket: Bucket, limit: RateLimit): Reply {
    const requestId = newRequestId();
    if (limit.retryAfterSeconds !== undefined) {
      const message = `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`;
      return this.finish(
        json(
          limit.status,
          { message, documentation_url: SECONDARY_DOCS, status: String(limit.status) },
          { 'retry-after': String(limit.retryAfterSeconds) },
        ),
        bucket,
        false,
        requestId,
      );
    }
    const reset = Math.floor(Date.now() / 1000) + (limit.resetInSeconds ?? 60);
    const headers = {
      'x-ratelimit-remaining': '0',
      'x-ratelimit-used': String(bucket.limit),
      'x-ratelimit-reset': String(reset),
    };
    const message = `API rate limit exceeded for user ID ${caller.id}.`;
    return this.finish(
      json(limit.status, { message, documentation_url: RATE_DOCS, status: String(limit.status) }, headers),
      bucket,
      false,
      requestId,
    );
  }

  // --- Handlers ---

  private getAuthenticatedUser(c: Ctx): Reply {
    const publicRepos = [...this.repos.values()].filter((repo) => sameLogin(repo.owner, c.caller.login)).length;
    const at = iso(c.caller.created);
    const profile = {
      name: null,
      company: null,
      blog: '',
      location: null,
      email: null,
      hireable: null,
      bio: null,
      twitter_username: null,
    };
    return json(200, {
      ...this.renderUser(c.caller.login),
      ...profile,
      public_repos: publicRepos,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: at,
      updated_at: at,
    });
  }

  private getRepo(c: Ctx, repo: RepoState): Reply {
    return json(200, this.renderRepo(repo, c.caller));
  }

  private async createFork(c: Ctx, repo: RepoState): Promise<Reply> {
    const name = c.fields.name;
    if (name !== undefined && (typeof name !== 'string' || !NAME.test(name))) {
      return invalid(c.docs, { resource: 'Repository', code: 'invalid', field: 'name' });
    }
    const fork = await this.fork(repo, c.caller, name);
    return json(202, this.renderRepo(fork, c.caller));
  }

  private listIssues(c: Ctx, repo: RepoState): Reply {
    const state = c.url.searchParams.get('state') ?? 'open';
    const wanted = (c.url.searchParams.get('labels') ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean);
    const issues = repo.issues.filter(
      (issue) =>
        (state === 'all' || issue.state === state) &&
        wanted.every((name) => issue.labels.some((label) => label.name.toLowerCase() === name)),
    );
    return this.page(c, sortIssues(issues, c.url.searchParams), (issue) => this.renderIssue(repo, issue));
  }

  private createIssue(c: Ctx, repo: RepoState): Reply {
    const { title, body } = c.fields;
    if (typeof title !== 'string' || title === '') {
      return invalid(c.docs, { resource: 'Issue', code: 'missing_field', field: 'title' });
    }
    if (body !== undefined && body !== null && typeof body !== 'string') {
      return invalid(c.docs, { resource: 'Issue', code: 'invalid', field: 'body' });
    }
    const labels = labelNames(c.fields.labels ?? []);
    if (!labels) {
      return invalid(c.docs, { resource: 'Label', code: 'invalid', field: 'labels' });
    }
    // GitHub drops the labels of someone who may not triage, without an error.
    const issue = this.addIssue(
      repo,
      c.caller.login,
      title,
      body ?? null,
      this.canPush(repo, c.caller.login) ? labels : [],
    );
    const rendered = this.renderIssue(repo, issue);
    return json(201, rendered, { location: rendered.url });
  }

  private getIssue(c: Ctx, repo: RepoState): Reply {
    const issue = repo.issues[Number(c.params.number) - 1];
    return issue ? json(200, this.renderIssue(repo, issue)) : githubError(404, 'Not Found', c.docs);
  }

  private editIssue(c: Ctx, repo: RepoState): Reply {
    const issue = repo.issues[Number(c.params.number) - 1];
    if (!issue) {
      return githubError(404, 'Not Found', c.docs);
    }
    const labels = c.fields.labels === undefined ? undefined : labelNames(c.fields.labels);
    if (labels === null) {
      return invalid(c.docs, { resource: 'Label', code: 'invalid', field: 'labels' });
    }
    const edited = this.edit(c, repo, issue, 'Issue');
    if (edited) {
      return edited;
    }
    if (labels && this.canPush(repo, c.caller.login)) {
      this.setLabels(repo, issue, labels, c.caller.login);
    }
    return json(200, this.renderIssue(repo, issue));
  }

  private listComments(c: Ctx, repo: RepoState): Reply {
    const issue = repo.issues[Number(c.params.number) - 1];
    if (!issue) {
      return githubError(404, 'Not Found', c.docs);
    }
    return this.page(c, issue.comments, (comment) => this.renderComment(repo, issue, comment));
  }

  private createComment(c: Ctx, repo: RepoState): Reply {
    const issue = repo.issues[Number(c.params.number) - 1];
    if (!issue) {
      return githubError(404, 'Not Found', c.docs);
    }
    const body = c.fields.body;
    if (typeof body !== 'string' || body === '') {
      return invalid(c.docs, { resource: 'IssueComment', code: 'missing_field', field: 'body' });
    }
    const comment = this.renderComment(repo, issue, this.addComment(issue, c.caller.login, body));
    return json(201, comment, { location: comment.url });
  }

  private editComment(c: Ctx, repo: RepoState): Reply {
    const id = Number(c.params.id);
    const issue = repo.issues.find((i) => i.comments.some((comment) => comment.id === id));
    const comment = issue?.comments.find((cm) => cm.id === id);
    if (!issue || !comment) {
      return githubError(404, 'Not Found', c.docs);
    }
    if (!sameLogin(comment.user, c.caller.login) && !this.canPush(repo, c.caller.login)) {
      return githubError(403, FORBIDDEN, c.docs);
    }
    const body = c.fields.body;
    if (typeof body !== 'string' || body === '') {
      return invalid(c.docs, { resource: 'IssueComment', code: 'missing_field', field: 'body' });
    }
    comment.body = body;
    comment.updated = Date.now();
    this.record(issue, { event: 'comment_edited', commentId: id, body, actor: c.caller.login });
    return json(200, this.renderComment(repo, issue, comment));
  }

  private listLabels(c: Ctx, repo: RepoState): Reply {
    const issue = repo.issues[Number(c.params.number) - 1];
    return issue ? this.page(c, issue.labels, (label) => ({ ...label })) : githubError(404, 'Not Found', c.docs);
  }

  private changeLabels(c: Ctx, repo: RepoState, how: 'add' | 'set'): Reply {
    const issue = repo.issues[Number(c.params.number) - 1];
    if (!issue) {
      return githubError(404, 'Not Found', c.docs);
    }
    if (!this.canPush(repo, c.caller.login)) {
      return githubError(403, FORBIDDEN, c.docs);
    }
    // GitHub takes {labels: [...]} or the bare array.
    const names = labelNames(Array.isArray(c.body) ? c.body : (c.fields.labels ?? []));
    if (!names) {
      return invalid(c.docs, { resource: 'Label', code: 'invalid', field: 'labels' });
    }
    if (how === 'add') {
      this.addLabels(repo, issue, names, c.caller.login);
    } else {
      this.setLabels(repo, issue, names, c.caller.login);
    }
    return json(200, issue.labels);
  }

  private removeLabel(c: Ctx, repo: RepoState): Reply {
    const issue = repo.issues[Number(c.params.number) - 1];
    if (!issue) {
      return githubError(404, 'Not Found', c.docs);
    }
    if (!this.canPush(repo, c.caller.login)) {
      return githubError(403, FORBIDDEN, c.docs);
    }
    if (!this.unlabel(issue, param(c, 'name'), c.caller.login)) {
      return githubError(404, 'Label does not exist', c.docs);
    }
    return json(200, issue.labels);
  }

  private async listPulls(c: Ctx, repo: RepoState): Promise<Reply> {
    const query = c.url.searchParams;
    const state = query.get('state') ?? 'open';
    const head = query.get('head');
    const base = query.get('base');
    const pulls = repo.issues.filter((issue) => {
      const pull = issue.pull;
      if (!pull || (state !== 'all' && issue.state !== state) || (base !== null && pull.baseRef !== base)) {
        return false;
      }
      if (head === null) {
        return true;
      }
      // `owner:branch`, or just `owner` for all of that owner's heads.
      const [owner, ref] = head.includes(':')
        ? [head.slice(0, head.indexOf(':')), head.slice(head.indexOf(':') + 1)]
        : [head, undefined];
      return sameLogin(pull.headRepo.owner, owner) && (ref === undefined || pull.headRef === ref);
    });
    await Promise.all(pulls.map((issue) => this.refresh(repo, issue)));
    return this.page(c, sortIssues(pulls, query), (issue) => this.renderPull(repo, issue));
  }

  private async createPull(c: Ctx, repo: RepoState): Promise<Reply> {
    const { title, head, base, body, draft } = c.fields;
    const missing = (field: string) => invalid(c.docs, { resource: 'PullRequest', code: 'missing_field', field });
    if (typeof title !== 'string' || title === '') {
      return missing('title');
    }
    if (typeof head !== 'string' || head === '') {
      return missing('head');
    }
    if (typeof base !== 'string' || base === '') {
      return missing('base');
    }
    if (body !== undefined && body !== null && typeof body !== 'string') {
      return invalid(c.docs, { resource: 'PullRequest', code: 'invalid', field: 'body' });
    }

    const colon = head.indexOf(':');
    const headOwner = colon < 0 ? repo.owner : head.slice(0, colon);
    const headRef = colon < 0 ? head : head.slice(colon + 1);
    const headRepo = this.networkRepo(repo, headOwner);
    const badHead = () => invalid(c.docs, { resource: 'PullRequest', code: 'invalid', field: 'head' });
    if (!headRepo || !this.canPush(headRepo, c.caller.login)) {
      return badHead();
    }
    const headSha = await branchSha(this.barePath(headRepo.owner, headRepo.name), headRef);
    if (!headSha) {
      return badHead();
    }
    const baseSha = await branchSha(this.barePath(repo.owner, repo.name), base);
    if (!baseSha) {
      return invalid(c.docs, { resource: 'PullRequest', code: 'invalid', field: 'base' });
    }
    if (await isAncestor(this.barePath(repo.owner, repo.name), headSha, baseSha)) {
      return invalid(c.docs, {
        resource: 'PullRequest',
        code: 'custom',
        message: `No commits between ${base} and ${head}`,
      });
    }
    // Checked after the awaits, so two concurrent requests cannot both open one.
    const label = `${headRepo.owner}:${headRef}`;
    const open = repo.issues.find(
      (i) =>
        i.state === 'open' && i.pull?.headRepo === headRepo && i.pull.headRef === headRef && i.pull.baseRef === base,
    );
    if (open) {
      return invalid(c.docs, {
        resource: 'PullRequest',
        code: 'custom',
        message: `A pull request already exists for ${label}.`,
      });
    }

    const pull: PullState = {
      id: this.ids.pull++,
      headRepo,
      headRef,
      headSha,
      baseRef: base,
      baseSha,
      draft: draft === true,
    };
    const issue = this.addIssue(repo, c.caller.login, title, body ?? null, [], pull);
    const rendered = this.renderPull(repo, issue);
    return json(201, rendered, { location: rendered.url });
  }

  private async getPull(c: Ctx, repo: RepoState): Promise<Reply> {
    const issue = repo.issues[Number(c.params.number) - 1];
    if (!issue?.pull) {
      return githubError(404, 'Not Found', c.docs);
    }
    await this.refresh(repo, issue);
    return json(200, this.renderPull(repo, issue));
  }

  private async editPull(c: Ctx, repo: RepoState): Promise<Reply> {
    const issue = repo.issues[Number(c.params.number) - 1];
    if (!issue?.pull) {
      return githubError(404, 'Not Found', c.docs);
    }
    const edited = this.edit(c, repo, issue, 'PullRequest');
    if (edited) {
      return edited;
    }
    await this.refresh(repo, issue);
    return json(200, this.renderPull(repo, issue));
  }

  private async getBranch(c: Ctx, repo: RepoState): Promise<Reply> {
    const name = param(c, 'branch');
    const path = this.barePath(repo.owner, repo.name);
    const sha = await branchSha(path, name);
    if (!sha) {
      return githubError(404, 'Branch not found', c.docs);
    }
    const fields = (
      await git([
        '--git-dir',
        path,
        'show',
        '-s',
        '--format=%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B',
        sha,
      ])
    ).split('\0');
    // The format prints every separator, so all nine fields are there (empty at worst).
    const [
      tree = '',
      parents = '',
      authorName = '',
      authorEmail = '',
      authorDate = '',
      committerName = '',
      committerEmail = '',
      committerDate = '',
      message = '',
    ] = fields;
    const api = this.repoApi(repo);
    const web = this.repoWeb(repo);
    const commitUrl = `${api}/commits/${sha}`;
    return json(200, {
      name,
      commit: {
        sha,
        node_id: nodeId('Commit', `${repo.id}:${sha}`),
        commit: {
          author: { name: authorName, email: authorEmail, date: iso(Date.parse(authorDate)) },
          committer: { name: committerName, email: committerEmail, date: iso(Date.parse(committerDate)) },
          message: message.replace(/\n+$/, ''),
          tree: { sha: tree, url: `${api}/git/trees/${tree}` },
          url: `${api}/git/commits/${sha}`,
          comment_count: 0,
        },
        url: commitUrl,
        html_url: `${web}/commit/${sha}`,
        author: null,
        committer: null,
        parents: parents
          .split(' ')
          .filter(Boolean)
          .map((parent) => ({ sha: parent, url: `${api}/commits/${parent}`, html_url: `${web}/commit/${parent}` })),
      },
      _links: { self: `${api}/branches/${encodeURIComponent(name)}`, html: `${web}/tree/${name}` },
      protected: false,
      protection: { enabled: false, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } },
      protection_url: `${api}/branches/${encodeURIComponent(name)}/protection`,
    });
  }

  // --- State ---

  /** The user with this login (case-insensitive), made on first mention. */
  private user(login: string): UserState {
    if (!NAME.test(login)) {
      throw new Error(`fake GitHub: bad login ${login}`);
    }
    let user = this.users.get(login.toLowerCase());
    if (!user) {
      user = { login, id: this.ids.user++, created: Date.now() };
      this.users.set(login.toLowerCase(), user);
    }
    return user;
  }

  private findRepo(owner: string, name: string): RepoState | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  private mustRepo(owner: string, name: string): RepoState {
    const repo = this.findRepo(owner, name);
    if (!repo) {
      throw new Error(`fake GitHub: no repository ${owner}/${name}`);
    }
    return repo;
  }

  /** Registers the repository once `make(path)` has made its bare repository. */
  private async makeRepo(
    owner: string,
    name: string,
    defaultBranch: string,
    make: (path: string) => Promise<void>,
    forkOf?: RepoState,
  ): Promise<RepoState> {
    if (!NAME.test(name) || name === '.' || name === '..') {
      throw new Error(`fake GitHub: bad repository name ${name}`);
    }
    const login = this.user(owner).login;
    const key = `${login}/${name}`.toLowerCase();
    const path = join(this.dir, login, `${name}.git`);
    if (this.repos.has(key) || this.making.has(key) || existsSync(path)) {
      throw new Error(`fake GitHub: ${login}/${name} already exists`);
    }
    this.making.add(key);
    try {
      await mkdir(dirname(path), { recursive: true });
      await make(path);
    } finally {
      this.making.delete(key);
    }
    const repo: RepoState = {
      id: this.ids.repo++,
      owner: login,
      name,
      defaultBranch,
      created: Date.now(),
      collaborators: new Set(),
      forkOf,
      labels: new Map(),
      issues: [],
    };
    this.repos.set(key, repo);
    return repo;
  }

  /** The caller's fork of `source`: the one they have, or a new `git clone --bare`. One's own repository is its own fork. */
  private fork(source: RepoState, caller: UserState, name?: string): Promise<RepoState> {
    if (sameLogin(source.owner, caller.login)) {
      return Promise.resolve(source);
    }
    const existing = [...this.repos.values()].find(
      (repo) => repo.forkOf === source && sameLogin(repo.owner, caller.login),
    );
    if (existing) {
      return Promise.resolve(existing);
    }
    const key = `${source.id}:${caller.login.toLowerCase()}`;
    let pending = this.forking.get(key);
    if (!pending) {
      // Like GitHub: a name the caller already uses gets a numbered suffix.
      const wanted = name ?? source.name;
      let free = wanted;
      for (
        let n = 1;
        this.findRepo(caller.login, free) || this.making.has(`${caller.login}/${free}`.toLowerCase());
        n++
      ) {
        free = `${wanted}-${n}`;
      }
      const sourcePath = this.barePath(source.owner, source.name);
      pending = this.makeRepo(
        caller.login,
        free,
        source.defaultBranch,
        (path) => git(['clone', '--bare', '--quiet', sourcePath, path]).then(() => undefined),
        source,
      );
      this.forking.set(key, pending);
      void pending.finally(() => this.forking.delete(key)).catch(() => undefined);
    }
    return pending;
  }

  /** The head owner's repository in the base's fork network; failing that, theirs of the same name. */
  private networkRepo(base: RepoState, owner: string): RepoState | undefined {
    const root = (repo: RepoState): RepoState => (repo.forkOf ? root(repo.forkOf) : repo);
    const inNetwork = [...this.repos.values()].find(
      (repo) => sameLogin(repo.owner, owner) && root(repo) === root(base),
    );
    return inNetwork ?? this.findRepo(owner, base.name);
  }

  private permissions(repo: RepoState, login: string): GithubPermissions {
    const owner = sameLogin(repo.owner, login);
    const push = owner || repo.collaborators.has(login.toLowerCase());
    return { admin: owner, maintain: owner, push, triage: push, pull: true };
  }

  private canPush(repo: RepoState, login: string): boolean {
    return this.permissions(repo, login).push;
  }

  private association(repo: RepoState, login: string): AuthorAssociation {
    if (sameLogin(repo.owner, login)) {
      return 'OWNER';
    }
    return repo.collaborators.has(login.toLowerCase()) ? 'COLLABORATOR' : 'NONE';
  }

  private addIssue(
    repo: RepoState,
    user: string,
    title: string,
    body: string | null,
    labels: string[],
    pull?: PullState,
  ): IssueState {
    const now = Date.now();
    const issue: IssueState = {
      id: this.ids.issue++,
      number: repo.issues.length + 1,
      title,
      body,
      user,
      state: 'open',
      stateReason: null,
      labels: [],
      comments: [],
      created: now,
      updated: now,
      closed: null,
      timeline: [],
      pull,
    };
    repo.issues.push(issue);
    this.addLabels(repo, issue, labels, user);
    return issue;
  }

  private addComment(issue: IssueState, user: string, body: string): CommentState {
    const now = Date.now();
    const comment: CommentState = { id: this.ids.comment++, user, body, created: now, updated: now };
    issue.comments.push(comment);
    issue.updated = now;
    this.record(issue, { event: 'commented', commentId: comment.id, body, actor: user });
    return comment;
  }

  /** The repository's label of this name, made (grey, no description) on first use as GitHub does. */
  private labelFor(repo: RepoState, name: string): GithubLabel {
    let label = repo.labels.get(name.toLowerCase());
    if (!label) {
      const id = this.ids.label++;
      label = {
        id,
        node_id: nodeId('Label', id),
        url: `${this.repoApi(repo)}/labels/${encodeURIComponent(name)}`,
        name,
        color: LABEL_COLOR,
        default: false,
        description: null,
      };
      repo.labels.set(name.toLowerCase(), label);
    }
    return label;
  }

  /** Labels it already has are left alone and leave no trace. */
  private addLabels(repo: RepoState, issue: IssueState, names: string[], actor: string): void {
    for (const name of names) {
      if (issue.labels.some((label) => sameLogin(label.name, name))) {
        continue;
      }
      const label = this.labelFor(repo, name);
      issue.labels.push(label);
      issue.updated = Date.now();
      this.record(issue, { event: 'labeled', label: label.name, actor });
    }
  }

  private setLabels(repo: RepoState, issue: IssueState, names: string[], actor: string): void {
    for (const label of [...issue.labels]) {
      if (!names.some((name) => sameLogin(name, label.name))) {
        this.unlabel(issue, label.name, actor);
      }
    }
    this.addLabels(repo, issue, names, actor);
  }

  private unlabel(issue: IssueState, name: string, actor: string): boolean {
    const index = issue.labels.findIndex((label) => sameLogin(label.name, name));
    if (index < 0) {
      return false;
    }
    const [label] = issue.labels.splice(index, 1);
    if (!label) {
      return false;
    }
    issue.updated = Date.now();
    this.record(issue, { event: 'unlabeled', label: label.name, actor });
    return true;
  }

  /** Title, body and state of an issue or pull request; a reply only when the edit is refused. */
  private edit(c: Ctx, repo: RepoState, issue: IssueState, resource: string): Reply | undefined {
    const { title, body, state, state_reason: reason } = c.fields;
    if (!sameLogin(issue.user, c.caller.login) && !this.canPush(repo, c.caller.login)) {
      return githubError(403, FORBIDDEN, c.docs);
    }
    const bad = (field: string) => invalid(c.docs, { resource, code: 'invalid', field });
    if (title !== undefined && (typeof title !== 'string' || title === '')) {
      return bad('title');
    }
    if (body !== undefined && body !== null && typeof body !== 'string') {
      return bad('body');
    }
    if (state !== undefined && state !== 'open' && state !== 'closed') {
      return bad('state');
    }
    if (
      reason !== undefined &&
      reason !== null &&
      reason !== 'completed' &&
      reason !== 'not_planned' &&
      reason !== 'reopened'
    ) {
      return bad('state_reason');
    }
    if (title !== undefined || body !== undefined) {
      issue.updated = Date.now();
    }
    if (title !== undefined) {
      issue.title = title;
    }
    if (body !== undefined) {
      issue.body = body;
    }
    if (state !== undefined && state !== issue.state) {
      const now = Date.now();
      issue.state = state;
      issue.updated = now;
      issue.closed = state === 'closed' ? now : null;
      issue.stateReason = state === 'closed' ? (reason ?? 'completed') : 'reopened';
      this.record(issue, { event: state === 'closed' ? 'closed' : 'reopened', actor: c.caller.login });
    } else if (reason !== undefined && issue.state === 'closed') {
      issue.stateReason = reason;
    }
    return undefined;
  }

  private record(issue: IssueState, entry: Omit<TimelineEntry, 'at'>): void {
    issue.timeline.push({ ...entry, at: Date.now() });
  }

  /** A pull request's head and base follow what was pushed, as on GitHub; a deleted branch keeps its last sha. */
  private async refresh(repo: RepoState, issue: IssueState): Promise<void> {
    const pull = issue.pull;
    if (!pull) {
      return;
    }
    const [head, base] = await Promise.all([
      branchSha(this.barePath(pull.headRepo.owner, pull.headRepo.name), pull.headRef),
      branchSha(this.barePath(repo.owner, repo.name), pull.baseRef),
    ]);
    pull.headSha = head ?? pull.headSha;
    pull.baseSha = base ?? pull.baseSha;
  }

  /** One page of `items`, with GitHub's `link` header when there are more pages. */
  private page<T>(c: Ctx, items: T[], render: (item: T) => unknown): Reply {
    const query = c.url.searchParams;
    const perPage = Math.min(100, Math.max(1, positiveInt(query.get('per_page')) ?? 30));
    const page = positiveInt(query.get('page')) ?? 1;
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (n: number, rel: string) => {
      const url = new URL(c.url.href);
      url.searchParams.set('page', String(n));
      return `<${url.href}>; rel="${rel}"`;
    };
    const links = [
      ...(page > 1 ? [link(page - 1, 'prev')] : []),
      ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
      ...(page > 1 ? [link(1, 'first')] : []),
    ];
    const slice = items.slice((page - 1) * perPage, page * perPage);
    return json(200, slice.map(render), links.length ? { link: links.join(', ') } : {});
  }

  // --- JSON shapes ---

  private repoApi(repo: RepoState): string {
    return `${this.url}/repos/${repo.owner}/${repo.name}`;
  }

  private repoWeb(repo: RepoState): string {
    return `${this.url}/${repo.owner}/${repo.name}`;
  }

  private renderUser(login: string): GithubUser {
    const user = this.user(login);
    return {
      login: user.login,
      id: user.id,
      node_id: nodeId('User', user.id),
      avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
      gravatar_id: '',
      url: `${this.url}/users/${user.login}`,
      html_url: `${this.url}/${user.login}`,
      repos_url: `${this.url}/users/${user.login}/repos`,
      type: 'User',
      user_view_type: 'public',
      site_admin: false,
    };
  }

  private renderRepo(repo: RepoState, caller?: UserState): GithubRepo {
    const api = this.repoApi(repo);
    const root = (r: RepoState): RepoState => (r.forkOf ? root(r.forkOf) : r);
    const at = iso(repo.created);
    return {
      id: repo.id,
      node_id: nodeId('Repository', repo.id),
      name: repo.name,
      full_name: `${repo.owner}/${repo.name}`,
      private: false,
      owner: this.renderUser(repo.owner),
      html_url: this.repoWeb(repo),
      description: null,
      fork: repo.forkOf !== undefined,
      url: api,
      issues_url: `${api}/issues{/number}`,
      pulls_url: `${api}/pulls{/number}`,
      clone_url: `file://${this.barePath(repo.owner, repo.name)}`,
      created_at: at,
      updated_at: at,
      homepage: null,
      size: 0,
      has_issues: true,
      forks_count: [...this.repos.values()].filter((r) => r.forkOf === repo).length,
      open_issues_count: repo.issues.filter((issue) => issue.state === 'open').length,
      archived: false,
      disabled: false,
      visibility: 'public',
      default_branch: repo.defaultBranch,
      ...(caller ? { permissions: this.permissions(repo, caller.login) } : {}),
      ...(repo.forkOf ? { parent: this.renderRepo(repo.forkOf), source: this.renderRepo(root(repo.forkOf)) } : {}),
    };
  }

  private renderIssue(repo: RepoState, issue: IssueState): GithubIssue {
    const api = `${this.repoApi(repo)}/issues/${issue.number}`;
    const web = `${this.repoWeb(repo)}/${issue.pull ? 'pull' : 'issues'}/${issue.number}`;
    return {
      url: api,
      repository_url: this.repoApi(repo),
      labels_url: `${api}/labels{/name}`,
      comments_url: `${api}/comments`,
      events_url: `${api}/events`,
      html_url: web,
      id: issue.id,
      node_id: nodeId('Issue', issue.id),
      number: issue.number,
      title: issue.title,
      user: this.renderUser(issue.user),
      labels: issue.labels.map((label) => ({ ...label })),
      state: issue.state,
      locked: false,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: issue.comments.length,
      created_at: iso(issue.created),
      updated_at: iso(issue.updated),
      closed_at: issue.closed === null ? null : iso(issue.closed),
      author_association: this.association(repo, issue.user),
      ...(issue.pull
        ? {
            draft: issue.pull.draft,
            pull_request: {
              url: `${this.repoApi(repo)}/pulls/${issue.number}`,
              html_url: web,
              diff_url: `${web}.diff`,
              patch_url: `${web}.patch`,
              merged_at: null,
            },
          }
        : {}),
      body: issue.body,
      state_reason: issue.stateReason,
    };
  }

  private renderComment(repo: RepoState, issue: IssueState, comment: CommentState): GithubComment {
    return {
      url: `${this.repoApi(repo)}/issues/comments/${comment.id}`,
      html_url: `${this.repoWeb(repo)}/${issue.pull ? 'pull' : 'issues'}/${issue.number}#issuecomment-${comment.id}`,
      issue_url: `${this.repoApi(repo)}/issues/${issue.number}`,
      id: comment.id,
      node_id: nodeId('IssueComment', comment.id),
      user: this.renderUser(comment.user),
      created_at: iso(comment.created),
      updated_at: iso(comment.updated),
      author_association: this.association(repo, comment.user),
      body: comment.body,
    };
  }

  private renderPull(repo: RepoState, issue: IssueState): GithubPull {
    const pull = issue.pull;
    if (!pull) {
      throw new Error(`fake GitHub: #${issue.number} is not a pull request`);
    }
    const web = `${this.repoWeb(repo)}/pull/${issue.number}`;
    const ref = (r: RepoState, name: string, sha: string): GithubPullRef => ({
      label: `${r.owner}:${name}`,
      ref: name,
      sha,
      user: this.renderUser(r.owner),
      repo: this.renderRepo(r),
    });
    return {
      url: `${this.repoApi(repo)}/pulls/${issue.number}`,
      id: pull.id,
      node_id: nodeId('PullRequest', pull.id),
      html_url: web,
      diff_url: `${web}.diff`,
      patch_url: `${web}.patch`,
      issue_url: `${this.repoApi(repo)}/issues/${issue.number}`,
      number: issue.number,
      state: issue.state,
      locked: false,
      title: issue.title,
      user: this.renderUser(issue.user),
      body: issue.body,
      labels: issue.labels.map((label) => ({ ...label })),
      created_at: iso(issue.created),
      updated_at: iso(issue.updated),
      closed_at: issue.closed === null ? null : iso(issue.closed),
      merged_at: null,
      merge_commit_sha: null,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      head: ref(pull.headRepo, pull.headRef, pull.headSha),
      base: ref(repo, pull.baseRef, pull.baseSha),
      author_association: this.association(repo, issue.user),
      draft: pull.draft,
      merged: false,
      mergeable: null,
      comments: issue.comments.length,
    };
  }
}

interface ValidationError {
  resource: string;
  code: string;
  field?: string;
  message?: string;
}

function json(status: number, value: unknown, headers: OutgoingHttpHeaders = {}): Reply {
  return { status, headers, body: JSON.stringify(value) };
}

function githubError(status: number, message: string, docs: string, errors?: ValidationError[]): Reply {
  return json(status, { message, ...(errors ? { errors } : {}), documentation_url: docs, status: String(status) });
}

function invalid(docs: string, ...errors: ValidationError[]): Reply {
  return githubError(422, 'Validation Failed', docs, errors);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(raw: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Label names as GitHub takes them: strings or `{name}` objects; null if neither. */
function labelNames(value: unknown): string[] | null {
  if (!Array.isArray(value)) {
    return null;
  }
  const names = value.map((item: unknown) =>
    typeof item === 'string' ? item : isRecord(item) && typeof item.name === 'string' ? item.name : '',
  );
  return names.every((name) => name.trim() !== '') ? names.map((name) => name.trim()) : null;
}

function sortIssues(issues: IssueState[], query: URLSearchParams): IssueState[] {
  const sort = query.get('sort');
  const key = (issue: IssueState) =>
    sort === 'updated'
      ? issue.updated
      : sort === 'comments' || sort === 'popularity'
        ? issue.comments.length
        : issue.created;
  const sign = query.get('direction') === 'asc' ? 1 : -1;
  return [...issues].sort((a, b) => sign * (key(a) - key(b) || a.number - b.number));
}

function positiveInt(value: string | null): number | undefined {
  const n = Number(value);
  return value !== null && Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** GitHub compares logins and label names without regard to case. */
function sameLogin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** GitHub's timestamps have no milliseconds. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The legacy global node id: base64 of `0<length of type>:<type><id>`, e.g. MDQ6VXNlcjE= for user 1. */
function nodeId(type: string, id: number | string): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64');
}

function newRequestId(): string {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex').toUpperCase();
  const seconds = Math.floor(Date.now() / 1000)
    .toString(16)
    .toUpperCase();
  return `${hex(2)}:${hex(2)}:${hex(3)}:${hex(3)}:${seconds}`;
}

/** Branch names git would accept and that cannot be read as a revision expression. */
function validBranch(name: string): boolean {
  return name !== '' && !/(^[-/.])|([/.]$)|\.\.|@\{|\/\/|[\s~^:?*[\\\x00-\x1f\x7f]|\.lock$/.test(name);
}

/** The commit a branch points at, or null if there is no such branch. */
async function branchSha(gitDir: string, branch: string): Promise<string | null> {
  if (!validBranch(branch)) {
    return null;
  }
  const result = await runGit([
    '--git-dir',
    gitDir,
    'rev-parse',
    '--verify',
    '--quiet',
    `refs/heads/${branch}^{commit}`,
  ]);
  return result.code === 0 ? result.stdout.trim() : null;
}

/** True when `commit` is already in `other`'s history (false too when this repository lacks it, e.g. a fork's new commit). */
async function isAncestor(gitDir: string, commit: string, other: string): Promise<boolean> {
  return (await runGit(['--git-dir', gitDir, 'merge-base', '--is-ancestor', commit, other])).code === 0;
}

/** One commit of `files` on `branch`, made with plumbing: a bare repository has no work tree to commit from. */
async function commitFiles(
  gitDir: string,
  branch: string,
  files: Record<string, string>,
  author: string,
): Promise<void> {
  const index = join(gitDir, 'fake-github-index');
  const entries: string[] = [];
  for (const [file, content] of Object.entries(files)) {
    const blob = (await git(['--git-dir', gitDir, 'hash-object', '-w', '--stdin'], content)).trim();
    entries.push(`100644 ${blob}\t${file}\n`);
  }
  try {
    await git(['--git-dir', gitDir, 'update-index', '--add', '--index-info'], entries.join(''), {
      GIT_INDEX_FILE: index,
    });
    const tree = (await git(['--git-dir', gitDir, 'write-tree'], undefined, { GIT_INDEX_FILE: index })).trim();
    const email = `${author}@users.noreply.github.com`;
    const identity = {
      GIT_AUTHOR_NAME: author,
      GIT_AUTHOR_EMAIL: email,
      GIT_COMMITTER_NAME: 'GitHub',
      GIT_COMMITTER_EMAIL: 'noreply@github.com',
    };
    const commit = (
      await git(
        ['--git-dir', gitDir, 'commit-tree', '--no-gpg-sign', '-m', 'Initial commit', tree],
        undefined,
        identity,
      )
    ).trim();
    await git(['--git-dir', gitDir, 'update-ref', `refs/heads/${branch}`, commit]);
  } finally {
    await rm(index, { force: true });
  }
}

/** git without a shell; resolves with the exit code, since "no such branch" is an answer, not a failure. */
function runGit(
  args: string[],
  input?: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      env: childEnvironment({ GIT_TERMINAL_PROMPT: '0', ...env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

async function git(args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const result = await runGit(args, input, env);
  if (result.code !== 0) {
    throw new Error(`git ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}
