import { StringDecoder } from 'node:string_decoder';

import { simpleGit } from 'simple-git';
import type { SimpleGit, SimpleGitOptions } from 'simple-git';

import type { GithubStep } from '@waggle/contracts';

import type { WorkContext } from '../task-work';
import { StepError } from './step-error';

/**
 * Variables simple-git refuses to pass to git unless allowed one by one: every GIT_* and
 * those that name a program git would run (simple-git 4's guard). They are dropped from the
 * task's environment, as simple-git drops them from an inherited one; git gets exactly the
 * GIT_* variables a step sets.
 */
const GUARDED = /^(git_.*|editor|visual|pager|prefix|ssh_askpass)$/i;

/** simple-git's exit code for a git it did not start (aborted before the spawn). */
const NOT_STARTED = 9901;

/** The task's environment for git: without guarded variables, plus `own` (which simple-git is told to allow). */
export function gitEnv(taskEnv: NodeJS.ProcessEnv, own: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(taskEnv)) {
    if (value !== undefined && !GUARDED.test(key)) {
      env[key] = value;
    }
  }
  return { ...env, ...own };
}

interface StepOptions {
  /** Variables of this step's own (the token's GIT_CONFIG_*); simple-git is told to let exactly these through. */
  env?: Record<string, string>;
  /** `-c key=value` settings for this step. */
  config?: string[];
  /** Keep stdout out of the task's logs (output that is parsed). */
  quiet?: boolean;
}

/**
 * The git steps of a `github-issue` attempt, through simple-git: argument arrays, never a
 * shell; output to the task's logs; each step recorded (name, command, exit code) and a
 * failure thrown as a StepError. Stopping the attempt aborts the running git (SIGINT).
 */
export class GitSteps {
  constructor(
    private readonly ctx: WorkContext,
    private readonly record: (step: GithubStep) => void,
  ) {}

  clone(url: string, dir: string, branch: string, auth: Record<string, string>): Promise<string> {
    return this.run('clone', 'clone', this.ctx.cwd, { env: auth }, (git) =>
      git.clone(url, dir, ['--quiet', '--branch', branch]),
    );
  }

  /** `checkout -B`: the branch starts at `startPoint` whatever it held. */
  checkoutFresh(dir: string, branch: string, startPoint: string): Promise<string> {
    return this.run('branch', 'checkout', dir, {}, (git) => git.checkout(['--quiet', '-B', branch, startPoint]));
  }

  stageAll(dir: string): Promise<string> {
    return this.run('stage', 'add', dir, {}, (git) => git.add(['--all']));
  }

  /** Whether anything is staged or changed. */
  async hasChanges(dir: string): Promise<boolean> {
    return !(await this.run('status', 'status', dir, { quiet: true }, (git) => git.status())).isClean();
  }

  async commitsAhead(dir: string, base: string): Promise<number> {
    return Number(
      (
        await this.run('count', 'rev-list', dir, { quiet: true }, (git) =>
          git.raw(['rev-list', '--count', `${base}..HEAD`]),
        )
      ).trim(),
    );
  }

  async commit(dir: string, message: string, author: { name: string; email: string }): Promise<void> {
    const config = [`user.name=${author.name}`, `user.email=${author.email}`];
    await this.run('commit', 'commit', dir, { config }, (git) =>
      git.commit(message, { '--quiet': null, '--no-verify': null }),
    );
  }

  async head(dir: string): Promise<string> {
    return (await this.run('head', 'rev-parse', dir, { quiet: true }, (git) => git.revparse(['HEAD']))).trim();
  }

  /** `push --force` of HEAD to `branch` at `url`. */
  async forcePush(dir: string, url: string, branch: string, auth: Record<string, string>): Promise<void> {
    await this.run('push', 'push', dir, { env: auth }, (git) =>
      git.push(url, `HEAD:refs/heads/${branch}`, ['--quiet', '--force']),
    );
  }

  /** The sha of `branch` at `url`, as the remote says (`ls-remote`); '' when it has none. */
  async remoteSha(dir: string, url: string, branch: string, auth: Record<string, string>): Promise<string> {
    const out = await this.run('verify', 'ls-remote', dir, { env: auth, quiet: true }, (git) =>
      git.listRemote([url, `refs/heads/${branch}`]),
    );
    return out.split(/\s/)[0] ?? '';
  }

  private async run<T>(
    step: string,
    verb: string,
    cwd: string,
    options: StepOptions,
    task: (git: SimpleGit) => Promise<T>,
  ): Promise<T> {
    const own = { GIT_TERMINAL_PROMPT: '0', ...options.env };
    let command = `git ${verb}`;
    const exit: { code: number | null } = { code: null };
    const settings: Partial<SimpleGitOptions> = {
      baseDir: cwd,
      abort: this.ctx.signal,
      config: options.config ?? [],
      allowEnvironment: Object.keys(own),
      // The token's config travels as GIT_CONFIG_COUNT/KEY/VALUE; simple-git still screens the keys set that way.
      unsafe: { allowUnsafeConfigEnvCount: 'GIT_CONFIG_COUNT' in own },
      // simple-git fails a step only when git also wrote to stderr; any non-zero exit fails it here.
      errors: (error, result) => {
        exit.code = result.exitCode;
        return error ?? (result.exitCode !== 0 ? new Error(`exit code ${result.exitCode}`) : undefined);
      },
    };
    try {
      const git = simpleGit(settings)
        .env(gitEnv(this.ctx.env, own))
        .outputHandler((binary, stdout, stderr, args) => {
          command = [binary, ...args].join(' ');
          this.pipe('stdout', stdout, options.quiet);
          this.pipe('stderr', stderr);
        });
      const value = await task(git);
      this.record({ step, command, exitCode: 0 });
      return value;
    } catch (error) {
      const aborted = this.ctx.signal.aborted;
      const code = aborted || exit.code === NOT_STARTED ? null : exit.code;
      this.record({ step, command, exitCode: code });
      if (code === null && !aborted) {
        throw new StepError(step, `git ${verb}: ${(error as Error).message}`, null);
      }
      throw new StepError(step, `git ${verb} exited with ${code ?? 'a signal'}`, code);
    }
  }

  private pipe(stream: 'stdout' | 'stderr', readable: NodeJS.ReadableStream, quiet = false): void {
    if (quiet) {
      return;
    }
    const decoder = new StringDecoder('utf8');
    readable.on('data', (chunk: Buffer) => this.ctx.output(stream, decoder.write(chunk)));
  }
}
