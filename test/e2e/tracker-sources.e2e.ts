import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { CheckoutView, ImportProjectsReply, Page, ProjectView } from '@waggle/contracts';
import { eventually, runCli, TestHub } from '@waggle/testing';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.test', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();

describe('tracker: machines report the git repositories under their source folders; import makes projects of them', () => {
  let dir: string;
  let hub: TestHub;
  const sources = () => join(dir, 'gitrepos');

  /** A real repository with one commit, on `branch`, with `origin` at `remote` (none: no remote). */
  const repo = async (path: string, remote: string | null, branch = 'main') => {
    const at = join(sources(), path);
    await mkdir(at, { recursive: true });
    git(at, 'init', '-q', '-b', branch);
    await writeFile(join(at, 'README.md'), `# ${path}\n`);
    git(at, 'add', '.');
    git(at, 'commit', '-q', '-m', `Start ${path}`);
    if (remote) {
      git(at, 'remote', 'add', 'origin', remote);
    }
    return at;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waggle-sources-'));
    await repo('alpha', 'https://github.com/acme/alpha.git');
    const beta = await repo('beta', 'git@github.com:acme/beta.git', 'develop');
    await writeFile(join(beta, 'wip.txt'), 'not committed');
    await repo('acme/widgets', 'https://x-access-token:ghp_doNotLeakMe0000000000000000000000@github.com/acme/widgets');
    await repo('scratch', null);
    hub = await TestHub.start({ tracker: {}, taskRouters: 0 });
    const widgets = await hub.api('POST', '/api/projects', {
      key: 'widgets',
      name: 'Widgets',
      repository: 'acme/widgets',
    });
    assert.equal(widgets.status, 201);
    await hub.startAgent('pi-lab', { env: { WAGGLE_AGENT_SOURCES: sources() } });
  });

  after(async () => {
    await hub?.stop();
    if (dir) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists each repository with its remote, branch, dirty state and last commit', async () => {
    const items = await eventually(
      async () => {
        const page = await hub.api<Page<CheckoutView>>('GET', '/api/checkouts?machine=pi-lab');
        assert.equal(page.status, 200);
        assert.equal(page.body.items.length, 4, JSON.stringify(page.body));
        return page.body.items;
      },
      { what: 'pi-lab reported its repositories' },
    );
    const byPath = new Map(items.map((c) => [c.path.slice(sources().length + 1), c]));
    assert.deepEqual([...byPath.keys()], ['acme/widgets', 'alpha', 'beta', 'scratch']);
    const beta = byPath.get('beta')!;
    assert.equal(beta.remote, 'git@github.com:acme/beta.git');
    assert.equal(beta.branch, 'develop');
    assert.equal(beta.dirty, true);
    assert.equal(beta.machineName, 'pi-lab');
    assert.equal(beta.lastCommit?.subject, 'Start beta');
    assert.equal(beta.lastCommit?.sha, git(join(sources(), 'beta'), 'rev-parse', 'HEAD'));
    assert.equal(byPath.get('alpha')!.dirty, false);
    assert.equal(byPath.get('scratch')!.remote, null);
    const widgets = byPath.get('acme/widgets')!;
    assert.equal(widgets.remote, 'https://github.com/acme/widgets', 'the credential in the URL stays on the machine');
    assert.equal(widgets.projectKey, 'widgets', 'matched to the project by remote');
    assert.ok(!JSON.stringify(items).includes('doNotLeakMe'));

    const ofProject = await hub.api<Page<CheckoutView>>('GET', '/api/checkouts?project=widgets');
    assert.deepEqual(
      ofProject.body.items.map((c) => c.machineName),
      ['pi-lab'],
    );
  });

  it('imports a project per new remote (a dry run first), matched by remote URL, and again makes nothing', async () => {
    const env = { WAGGLE_HUB_URL: hub.url, WAGGLE_TOKEN: hub.adminToken, WAGGLE_HOME: hub.dir };
    const dry = await runCli(['projects', 'import', '--dry-run', '--json'], env);
    assert.equal(dry.code, 0, dry.stderr);
    const planned = JSON.parse(dry.stdout) as ImportProjectsReply;
    assert.deepEqual(
      planned.projects.map((p) => [p.repository, p.result]),
      [
        ['acme/alpha', 'would create'],
        ['acme/beta', 'would create'],
        ['acme/widgets', 'exists'],
      ],
    );
    assert.equal(
      (await hub.api<Page<ProjectView>>('GET', '/api/projects')).body.items.length,
      1,
      'a dry run makes nothing',
    );

    const run = await runCli(['projects', 'import'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /alpha[\s\S]*created/);
    assert.match(run.stdout, /skipped pi-lab:.*scratch \(no remote\)/);
    const beta = await hub.api<ProjectView>('GET', '/api/projects/beta');
    assert.equal(beta.status, 200);
    assert.equal(beta.body.repository, 'acme/beta');
    assert.equal(beta.body.defaultBranch, 'develop');
    assert.equal(beta.body.sourcePath, join(sources(), 'beta'));

    const again = await hub.api<ImportProjectsReply>('POST', '/api/projects/import', {});
    assert.equal(again.status, 200);
    assert.deepEqual(
      again.body.projects.map((p) => p.result),
      ['exists', 'exists', 'exists'],
    );
    const keys = (await hub.api<Page<ProjectView>>('GET', '/api/projects')).body.items.map((p) => p.key);
    assert.deepEqual(keys, ['alpha', 'beta', 'widgets']);
    const checkouts = await hub.api<Page<CheckoutView>>('GET', '/api/checkouts?project=alpha');
    assert.deepEqual(
      checkouts.body.items.map((c) => c.projectKey),
      ['alpha'],
    );
  });
});
