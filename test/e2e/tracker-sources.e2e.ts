import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type {
  AcceptPlanReply,
  CheckoutView,
  ErrorBody,
  ImportProjectsReply,
  MilestoneView,
  Page,
  PlanView,
  ProjectView,
  WorkItemView,
} from '@waggle/contracts';
import { eventually, FakeLlmProvider, runCli, TestHub } from '@waggle/testing';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.test', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();

describe('tracker: machines report the git repositories under their source folders; import makes projects of them', () => {
  let dir: string;
  let hub: TestHub;
  let llm: FakeLlmProvider;
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
    const alpha = await repo('alpha', 'https://github.com/acme/alpha.git');
    await mkdir(join(alpha, 'src'));
    await writeFile(join(alpha, 'README.md'), '# Alpha\nAlpha turns widgets into gadgets.\n');
    await writeFile(
      join(alpha, 'src', 'main.ts'),
      'export const x = 1; // TODO: read the size from the config\n// FIXME: breaks on empty input\n',
    );
    git(alpha, 'add', '.');
    git(alpha, 'commit', '-q', '-m', 'Notes');
    const beta = await repo('beta', 'git@github.com:acme/beta.git', 'develop');
    await writeFile(join(beta, 'wip.txt'), 'not committed');
    await repo('acme/widgets', 'https://x-access-token:ghp_doNotLeakMe0000000000000000000000@github.com/acme/widgets');
    await repo('scratch', null);
    llm = await FakeLlmProvider.start('openai');
    hub = await TestHub.start({
      tracker: {},
      taskRouters: 0,
      llm: {
        env: {
          WAGGLE_LLM_CHAIN: 'openai',
          WAGGLE_LLM_OPENAI_URL: llm.url,
          WAGGLE_LLM_OPENAI_API_KEY: 'sk-test',
        },
      },
    });
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
    await llm?.stop();
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

  it('plans a milestone from the checkout and the open bugs with the LLM; only accepted features are created', async () => {
    const bug = await hub.api<WorkItemView>('POST', '/api/projects/alpha/bugs', { title: 'Crash on start' });
    assert.equal(bug.status, 201);
    const answer = {
      milestone: { title: 'Configurable alpha', description: 'Sizes from the config, and no crashes.' },
      features: [
        { title: 'Read sizes from the config', spec: 'Replace the constant.', priority: 'high' },
        { title: 'Rewrite it in Rust', spec: 'Because.', priority: 'low' },
        { title: 'Handle empty input', spec: 'No crash on empty input.', priority: 'urgent' },
      ],
    };
    llm.script({ kind: 'ok', text: `Here is the plan:\n\`\`\`json\n${JSON.stringify(answer)}\n\`\`\`` });
    const made = await hub.api<PlanView>('POST', '/api/projects/alpha/plan', {
      milestone: 'configuration',
      maxFeatures: 5,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const plan = made.body;
    assert.equal(plan.state, 'proposed');
    assert.equal(plan.milestone.title, 'Configurable alpha');
    assert.deepEqual(
      plan.features.map((f) => [f.index, f.title, f.priority]),
      [
        [0, 'Read sizes from the config', 'high'],
        [1, 'Rewrite it in Rust', 'low'],
        [2, 'Handle empty input', 'urgent'],
      ],
    );
    assert.deepEqual(plan.sources, {
      machine: 'pi-lab',
      path: join(sources(), 'alpha'),
      todos: 2,
      openBugs: 1,
      readme: true,
    });
    // What the machine read and the tracker knew reached the model.
    const sent = JSON.stringify(llm.requests.at(-1)?.body);
    for (const part of [
      'Alpha turns widgets into gadgets',
      'TODO: read the size from the config',
      'FIXME: breaks on empty input',
      'Crash on start',
      'configuration',
    ]) {
      assert.ok(sent.includes(part), `${part} sent to the model`);
    }
    const before = await hub.api<Page<WorkItemView>>('GET', '/api/projects/alpha/features');
    assert.equal(before.body.items.length, 0, 'nothing is created before it is accepted');

    const env = { WAGGLE_HUB_URL: hub.url, WAGGLE_TOKEN: hub.adminToken, WAGGLE_HOME: hub.dir };
    const accepted = await runCli(['projects', 'accept-plan', plan.id, '--features', '1,3', '--json'], env);
    assert.equal(accepted.code, 0, accepted.stderr);
    const reply = JSON.parse(accepted.stdout) as AcceptPlanReply;
    assert.equal(reply.dropped, 1);
    assert.equal(reply.milestone?.title, 'Configurable alpha');
    const features = (await hub.api<Page<WorkItemView>>('GET', '/api/projects/alpha/features')).body.items;
    assert.deepEqual(features.map((f) => [f.title, f.status, f.priority, f.milestoneId]).sort(), [
      ['Handle empty input', 'planned', 'urgent', reply.milestone?.id],
      ['Read sizes from the config', 'planned', 'high', reply.milestone?.id],
    ]);
    const milestones = (await hub.api<Page<MilestoneView>>('GET', '/api/projects/alpha/milestones')).body.items;
    assert.deepEqual(
      milestones.map((m) => [m.title, m.progress.total]),
      [['Configurable alpha', 2]],
    );
    const twice = await hub.api<ErrorBody>('POST', `/api/plans/${plan.id}/accept`, { accept: [1] });
    assert.equal(twice.status, 409);
    assert.equal((await hub.api<Page<WorkItemView>>('GET', '/api/projects/alpha/features')).body.items.length, 2);

    // From the CLI in one go, dropping everything: nothing more is made.
    llm.script({ kind: 'ok', text: JSON.stringify(answer) });
    const dropped = await runCli(['projects', 'plan', 'alpha', '--accept', 'none'], env);
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.match(dropped.stdout, /Proposed milestone: Configurable alpha/);
    assert.match(dropped.stdout, /Nothing created; 3 proposed features dropped/);
    assert.equal((await hub.api<Page<WorkItemView>>('GET', '/api/projects/alpha/features')).body.items.length, 2);

    // A model that answers no plan, and a project no machine has, are refused with the reason.
    llm.script({ kind: 'ok', text: 'I would rather not.' });
    const vague = await hub.api<ErrorBody>('POST', '/api/projects/alpha/plan', {});
    assert.equal(vague.status, 503);
    assert.match(vague.body.message, /not a plan/);
    await hub.api('POST', '/api/projects', { key: 'nowhere', name: 'Nowhere', repository: 'acme/nowhere' });
    const nowhere = await hub.api<ErrorBody>('POST', '/api/projects/nowhere/plan', {});
    assert.equal(nowhere.status, 409);
    assert.match(nowhere.body.message, /no machine reports a checkout of nowhere/);
    const bad = await hub.api<ErrorBody>('POST', `/api/plans/${plan.id}/accept`, { accept: [40] });
    assert.equal(bad.status, 400);
  });
});
