import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { GithubStep, GithubTaskInput, GithubTaskReport } from '@waggle/contracts';
import type { GithubClient } from '@waggle/github';
import { githubErrorOf, splitRepo } from '@waggle/github';

import type { TaskWork, WorkContext, WorkResult } from '../task-work';
import { GitSteps } from './git-steps';
import { StepError } from './step-error';

/** This machine's GitHub identity and git settings. */
export interface GithubIdentity {
  client: GithubClient;
  token: string;
  gitName: string;
  gitEmail: string;
}

export interface GithubIssueJob {
  taskId: string;
  attempt: number;
  machineName: string;
  github: GithubTaskInput;
  prompt: string;
  /** The agent CLI's argument array for the prompt. */
  agentArgv: string[];
}

/** Where the agent writes follow-up issues in follow-up mode: a JSON array of { title, body }. */
export const FOLLOW_UPS_ENV = 'WAGGLE_FOLLOW_UPS_FILE';
/** Label on follow-up issues the machine opened (with a marker, so a retry finds them). */
export const FOLLOW_UP_LABEL = 'waggle:follow-up';

/** `waggle/12-fix-the-login-page`: the issue's number (or the work item, `feature-3`) and a slug of its title. */
export function branchName(issueNumber: number | string, title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `waggle/${issueNumber}${slug ? `-${slug}` : ''}`;
}

/**
 * git configuration for talking to the remote as this machine, through the environment
 * (GIT_CONFIG_*) of the git steps only: the token is never on a command line, in a URL, in
 * .git/config or in the agent CLI's environment, and is sent only to the clone URL's own host.
 */
export function gitAuthEnv(cloneUrl: string, token: string): Record<string, string> {
  const url = new URL(cloneUrl);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return {};
  }
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${url.origin}/.extraheader`,
    GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${basic}`,
  };
}

/**
 * A `github-issue` attempt: clone (from a fork of its own when this identity cannot push),
 * branch `waggle/N-slug`, run the agent CLI on the issue, commit as this machine, push,
 * check the branch on the remote, then open the pull request that fixes the issue (or
 * update the one an earlier attempt opened). Nothing changed: no pull request. Follow-up
 * mode: the agent's follow-up issues are opened instead. The agent never sees the token.
 */
export function githubIssueWork(job: GithubIssueJob, identity: GithubIdentity): TaskWork {
  return (ctx) => new GithubIssueAttempt(job, identity, ctx).run();
}

class GithubIssueAttempt {
  private readonly steps: GithubStep[] = [];
  private readonly owner: string;
  private readonly name: string;

  constructor(
    private readonly job: GithubIssueJob,
    private readonly identity: GithubIdentity,
    private readonly ctx: WorkContext,
  ) {
    ({ owner: this.owner, repo: this.name } = splitRepo(job.github.repo));
  }

  async run(): Promise<WorkResult> {
    try {
      return await this.deliver();
    } catch (error) {
      const failed = error instanceof StepError ? error : new StepError('github', this.describe(error));
      const report: GithubTaskReport = { outcome: 'failed', steps: this.steps, failedStep: failed.step };
      return {
        exitCode: failed.exitCode ?? 1,
        structured: { github: report },
        error: `${failed.step}: ${failed.message}`,
      };
    }
  }

  private async deliver(): Promise<WorkResult> {
    const { job, ctx } = this;
    const { client } = this.identity;
    const me = (await this.api('identity', 'GET /user', () => client.rest.users.getAuthenticated().then((r) => r.data)))
      .login;
    const upstream = await this.api('repository', `GET /repos/${job.github.repo}`, () =>
      client.rest.repos.get({ owner: this.owner, repo: this.name }).then((r) => r.data),
    );
    const pushRepo = upstream.permissions?.push ? upstream : await this.forkOf(me);
    const tree = join(ctx.cwd, 'tree');
    const base = upstream.default_branch;
    const branch = branchName(this.subject, job.github.issueTitle);
    const remoteAuth = gitAuthEnv(upstream.clone_url, this.identity.token);
    const pushAuth = gitAuthEnv(pushRepo.clone_url, this.identity.token);
    const git = new GitSteps(ctx, (step) => this.steps.push(step));

    await git.clone(upstream.clone_url, tree, base, remoteAuth);
    await git.checkoutFresh(tree, branch, `origin/${base}`);

    const followUpsFile = join(ctx.cwd, 'follow-ups.json');
    const [agentProgram] = job.agentArgv;
    if (agentProgram === undefined) {
      throw new StepError('agent', 'the agent CLI has no command configured');
    }
    ctx.note(`running ${agentProgram} on ${job.github.repo} ${this.describeSubject}`);
    const agent = await ctx.exec(job.agentArgv, { cwd: tree, env: { ...ctx.env, [FOLLOW_UPS_ENV]: followUpsFile } });
    this.steps.push({ step: 'agent', command: agentProgram, exitCode: agent.exitCode });
    if (agent.exitCode !== 0) {
      throw new StepError('agent', `${agentProgram} exited with ${agent.exitCode ?? 'a signal'}`, agent.exitCode);
    }

    if (job.github.mode === 'follow_up') {
      return this.openFollowUps(followUpsFile);
    }

    await git.stageAll(tree);
    const staged = await git.hasChanges(tree);
    const ahead = await git.commitsAhead(tree, `origin/${base}`);
    if (!staged && !ahead) {
      ctx.note('the agent changed nothing: no pull request');
      return this.done({ outcome: 'no_changes', steps: this.steps });
    }
    if (staged) {
      const message = `${this.pullTitle}\n\nWaggle task ${job.taskId} (attempt ${job.attempt}) on ${job.machineName}.`;
      await git.commit(tree, message, { name: this.identity.gitName, email: this.identity.gitEmail });
    }
    const sha = await git.head(tree);
    await git.forcePush(tree, pushRepo.clone_url, branch, pushAuth);
    if ((await git.remoteSha(tree, pushRepo.clone_url, branch, pushAuth)) !== sha) {
      throw new StepError('verify', `the remote does not hold ${branch} at ${sha} after the push`);
    }

    const head = pushRepo.owner.login === this.owner ? branch : `${pushRepo.owner.login}:${branch}`;
    const pull = await this.pullRequest(head, `${pushRepo.owner.login}:${branch}`, base);
    ctx.note(`pull request ${pull.html_url}`);
    return this.done({
      outcome: 'pull_request',
      pullRequest: { number: pull.number, url: pull.html_url, repo: job.github.repo, head, branch, sha },
      steps: this.steps,
    });
  }

  /** The open pull request of this branch, updated; or a new one. A retry never opens a second. */
  private async pullRequest(head: string, qualifiedHead: string, base: string) {
    const { job } = this;
    const { client } = this.identity;
    const title = this.pullTitle.slice(0, 256);
    const body = [
      job.github.issueNumber !== undefined
        ? `Fixes #${job.github.issueNumber}`
        : `Work item \`${job.github.workItem}\` of the Waggle tracker.`,
      '',
      `Made by Waggle task \`${job.taskId}\` (attempt ${job.attempt}) on **${job.machineName}** with \`${job.agentArgv[0]}\`.`,
    ].join('\n');
    const repo = { owner: this.owner, repo: this.name };
    const open = await this.api('pull request', `GET /repos/${job.github.repo}/pulls`, () =>
      client.rest.pulls.list({ ...repo, head: qualifiedHead, state: 'open', per_page: 1 }).then((r) => r.data),
    );
    const [existing] = open;
    if (existing) {
      return this.api('pull request', `PATCH /repos/${job.github.repo}/pulls/${existing.number}`, () =>
        client.rest.pulls.update({ ...repo, pull_number: existing.number, title, body }).then((r) => r.data),
      );
    }
    return this.api('pull request', `POST /repos/${job.github.repo}/pulls`, () =>
      client.rest.pulls.create({ ...repo, head, base, title, body }).then((r) => r.data),
    );
  }

  /** This identity's fork of the repository: the one it has, or a new one (GitHub makes forks in the background). */
  private async forkOf(me: string) {
    const { client } = this.identity;
    const existing = await client.rest.repos.get({ owner: me, repo: this.name }).then(
      (r) => r.data,
      () => undefined,
    );
    if (existing?.fork && existing.parent?.full_name === this.job.github.repo) {
      return existing;
    }
    this.ctx.note(`${me} cannot push to ${this.job.github.repo}: forking it`);
    const fork = await this.api('fork', `POST /repos/${this.job.github.repo}/forks`, () =>
      client.rest.repos.createFork({ owner: this.owner, repo: this.name }).then((r) => r.data),
    );
    for (let waited = 0; waited < 120; waited += 2) {
      const ready = await client.rest.repos.get({ owner: fork.owner.login, repo: fork.name }).then(
        (r) => r.data,
        () => undefined,
      );
      if (ready) {
        return ready;
      }
      this.ctx.note(`waiting for GitHub to make the fork (${waited} s)`);
      await new Promise((r) => setTimeout(r, 2000));
    }
    throw new StepError('fork', `the fork ${fork.full_name} did not appear within 2 minutes`);
  }

  /** Opens the follow-up issues the agent wrote; a retry finds those it opened before by their marker. */
  private async openFollowUps(file: string): Promise<WorkResult> {
    const { job } = this;
    const { client } = this.identity;
    let wanted: { title: string; body: string }[];
    try {
      const value = JSON.parse(await readFile(file, 'utf8')) as unknown;
      if (!Array.isArray(value)) {
        throw new Error('not a JSON array');
      }
      const text = (v: unknown) => (typeof v === 'string' ? v : '');
      wanted = value.map((v: { title?: unknown; body?: unknown }) => ({
        title: text(v.title).slice(0, 256),
        body: text(v.body),
      }));
      if (!wanted.length || wanted.some((w) => !w.title)) {
        throw new Error('every follow-up needs a title');
      }
    } catch (error) {
      throw new StepError(
        'follow-ups',
        `the agent wrote no follow-up issues to $${FOLLOW_UPS_ENV} (${(error as Error).message})`,
      );
    }
    const repo = { owner: this.owner, repo: this.name };
    const mine = await this.api('follow-ups', `GET /repos/${job.github.repo}/issues`, () =>
      client.paginate(client.rest.issues.listForRepo, {
        ...repo,
        labels: FOLLOW_UP_LABEL,
        state: 'all',
        per_page: 100,
      }),
    );
    const followUps: { number: number; url: string; title: string }[] = [];
    for (const [i, item] of wanted.entries()) {
      const marker = `<!-- waggle:follow-up task=${job.taskId} n=${i} -->`;
      const found = mine.find((issue) => issue.body?.includes(marker));
      const body = `${item.body}\n\nFollow-up of ${this.describeSubject}, from Waggle task \`${job.taskId}\` on **${job.machineName}**.\n${marker}`;
      if (found) {
        followUps.push({ number: found.number, url: found.html_url, title: found.title });
        continue;
      }
      const issue = await this.api('follow-ups', `POST /repos/${job.github.repo}/issues`, () =>
        client.rest.issues.create({ ...repo, title: item.title, body, labels: [FOLLOW_UP_LABEL] }).then((r) => r.data),
      );
      followUps.push({ number: issue.number, url: issue.html_url, title: issue.title });
    }
    return this.done({ outcome: 'follow_up', followUps, steps: this.steps });
  }

  /** The issue's number, or the tracker work item when the task is for one. */
  private get subject(): number | string {
    return this.job.github.issueNumber ?? this.job.github.workItem ?? 'work';
  }

  private get describeSubject(): string {
    return typeof this.subject === 'number' ? `#${this.subject}` : this.subject;
  }

  private get pullTitle(): string {
    const { github } = this.job;
    return github.issueNumber !== undefined
      ? `Fix #${github.issueNumber}: ${github.issueTitle}`
      : `${github.issueTitle} (${github.workItem})`;
  }

  private done(report: GithubTaskReport): WorkResult {
    return { exitCode: 0, structured: { github: report } };
  }

  /** One GitHub call as a step of the report; `run` gives the response's data. */
  private async api<T>(step: string, call: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.steps.push({ step, command: call, exitCode: 0 });
      return result;
    } catch (error) {
      this.steps.push({ step, command: call, exitCode: null });
      throw new StepError(step, `${call}: ${this.describe(error)}`);
    }
  }

  private describe(error: unknown): string {
    const { status, message } = githubErrorOf(error);
    return status ? `GitHub answered ${status}: ${message}` : message;
  }
}
