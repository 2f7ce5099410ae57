import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';

import type { Command } from 'commander';

import type {
  AcceptPlanReply,
  CheckoutView,
  HistoryEntryView,
  ImportProjectsReply,
  MilestoneView,
  PlanView,
  ProjectView,
  WatchedRepoCreated,
  WatchedRepoView,
  WorkItemView,
} from '@waggle/contracts';

import { ApiClient, CliError } from '../api-client';
import type { CliConfig } from '../cli.config';
import { ago, out } from '../output';

interface Conn {
  json?: boolean;
  hub?: string;
  token?: string;
}

const repeat = (v: string, all: string[]) => [...all, v];
const connection = (command: Command) =>
  command.option('--json', 'print JSON').option('--hub <url>').option('--token <token>');

/** `feature-12` → the features route; `bug-3` → bugs; an id is a feature unless --bug says otherwise. */
function itemPath(item: string, bug?: boolean): string {
  const kind = item.startsWith('bug-') || (bug && !item.startsWith('feature-')) ? 'bugs' : 'features';
  return `/api/${kind}/${encodeURIComponent(item)}`;
}

const project = (key: string) => `/api/projects/${encodeURIComponent(key)}`;

function itemRows(items: WorkItemView[]): (string | number)[][] {
  return items.map((i) => [
    i.ref,
    i.status,
    i.kind === 'bug' ? `${i.severity ?? '-'}/${i.priority}` : i.priority,
    i.title.length > 60 ? `${i.title.slice(0, 59)}…` : i.title,
    i.pullRequest?.url ?? (i.taskId ? `task ${i.taskId.slice(0, 8)} ${i.taskState ?? ''}` : (i.lastFailure ?? '-')),
  ]);
}

/** `1,3` (as shown, from 1), `all` or `none` → the plan's indexes. */
function chosen(plan: PlanView, answer: string): number[] {
  const text = answer.trim().toLowerCase();
  if (text === 'all') {
    return plan.features.map((f) => f.index);
  }
  if (text === 'none' || text === '') {
    return [];
  }
  return text.split(/[\s,]+/).map((part) => {
    const n = Number(part);
    if (!Number.isInteger(n) || n < 1 || n > plan.features.length) {
      throw new CliError(`"${part}" is not a feature of the plan (1..${plan.features.length})`);
    }
    return n - 1;
  });
}

async function acceptPlan(api: ApiClient, plan: PlanView, answer: string, json?: boolean): Promise<void> {
  const reply = await api.call<AcceptPlanReply>('POST', `/api/plans/${plan.id}/accept`, {
    accept: chosen(plan, answer),
  });
  if (json) {
    return out.json(reply);
  }
  if (!reply.milestone) {
    return out.line(`Nothing created; ${reply.dropped} proposed features dropped.`);
  }
  out.line(`milestone "${reply.milestone.title}" created with ${reply.features.length} planned features:`);
  for (const f of reply.features) {
    out.line(`  ${f.ref} ${f.title}`);
  }
  if (reply.dropped) {
    out.line(`${reply.dropped} dropped`);
  }
}

export function registerProjects(program: Command, config: CliConfig) {
  const projects = program
    .command('projects')
    .description('projects, milestones, features and bugs, and handing them to agents');

  connection(
    projects
      .command('create <name>')
      .description('create a project (its key is made from the name unless --key)')
      .option('--key <key>', 'short key (lower-case letters, digits, dashes)')
      .option('--repository <repo>', 'GitHub owner/name or a git remote URL')
      .option('--description <text>')
      .option('--branch <branch>', 'default branch (default main)')
      .option('--source <path>', 'where the project is checked out on machines')
      .option('--needs <tag>', 'capability every machine taking its work must have, repeatable', repeat, [] as string[])
      .option('--machine-label <label>', 'machine label every candidate must have, repeatable', repeat, [] as string[])
      .option('--target <machine>', 'run its work on this machine')
      .option('--cli <cli>', 'agent CLI: claude, codex, gemini or ollama'),
  ).action(
    async (
      name: string,
      opts: Conn & {
        key?: string;
        repository?: string;
        description?: string;
        branch?: string;
        source?: string;
        needs: string[];
        machineLabel: string[];
        target?: string;
        cli?: string;
      },
    ) => {
      const api = await ApiClient.fromFlags(opts, config);
      const placement = {
        capabilities: opts.needs.length ? opts.needs : undefined,
        labels: opts.machineLabel.length ? opts.machineLabel : undefined,
        target: opts.target,
        cli: opts.cli,
      };
      const created = await api.call<ProjectView>('POST', '/api/projects', {
        name,
        key: opts.key,
        repository: opts.repository,
        description: opts.description,
        defaultBranch: opts.branch,
        sourcePath: opts.source,
        placement: Object.values(placement).some((v) => v !== undefined) ? placement : undefined,
      });
      if (opts.json) {
        return out.json(created);
      }
      out.line(`project ${created.key} created${created.repository ? ` (${created.repository})` : ''}`);
    },
  );

  connection(
    projects
      .command('import')
      .description(
        'make a project of every repository machines report under their source folders (waggle agent --source DIR) that no project has yet',
      )
      .option('--machine <machine>', 'only what this machine has')
      .option('--dry-run', 'say what would be made, make nothing'),
  ).action(async (opts: Conn & { machine?: string; dryRun?: boolean }) => {
    const api = await ApiClient.fromFlags(opts, config);
    const reply = await api.call<ImportProjectsReply>('POST', '/api/projects/import', {
      machine: opts.machine,
      dryRun: opts.dryRun,
    });
    if (opts.json) {
      return out.json(reply);
    }
    if (!reply.projects.length) {
      out.line('No repositories reported. Start agents with `waggle agent --source DIR`.');
    } else {
      out.table(
        ['PROJECT', 'REPOSITORY', 'RESULT', 'CHECKED OUT ON'],
        reply.projects.map((p) => [p.key, p.repository, p.result, p.checkouts.join('\n')]),
      );
    }
    for (const skipped of reply.skipped) {
      out.line(`skipped ${skipped}`);
    }
  });

  connection(
    projects
      .command('labelled-issues <project>')
      .description(
        "agents work on the project's GitHub issues with the label: the GitHub bot watches its repository; each issue it takes appears as a bug",
      )
      .option('--label <label>', 'trigger label (default waggle)')
      .option('--no-poll', 'webhooks only (do not poll the repository)')
      .option('--off', 'stop (issues already taken keep their bugs)')
      .option('--show', 'only say whether it is on'),
  ).action(async (key: string, opts: Conn & { label?: string; poll: boolean; off?: boolean; show?: boolean }) => {
    const api = await ApiClient.fromFlags(opts, config);
    const path = `${project(key)}/labelled-issues`;
    if (opts.show || opts.off) {
      const watched = await api.call<WatchedRepoView>(opts.off ? 'DELETE' : 'GET', path);
      if (opts.json) {
        return out.json(watched);
      }
      return out.line(
        opts.off
          ? `agents no longer take issues of ${watched.repo}`
          : `agents take issues of ${watched.repo} labelled "${watched.label}"`,
      );
    }
    const watched = await api.call<WatchedRepoCreated>('PUT', path, { label: opts.label, poll: opts.poll });
    if (opts.json) {
      return out.json(watched);
    }
    out.line(`agents take issues of ${watched.repo} labelled "${watched.label}"; each appears as a bug of ${key}`);
    out.line(`webhook: ${api.hubUrl}${watched.webhookPath}  (content type application/json, event "Issues")`);
    if (watched.webhookSecret) {
      out.line(`webhook secret (shown once): ${watched.webhookSecret}`);
    }
  });

  connection(
    projects
      .command('plan <project>')
      .description(
        "plan the next milestone with the LLM from the project's README, TODO/FIXME comments (read on a machine that has it) and open bugs; you accept or drop each proposed feature",
      )
      .option('--milestone <text>', 'what the milestone is about')
      .option('--machine <machine>', 'read the checkout on this machine')
      .option('--max <n>', 'at most this many features (default 10)')
      .option('--accept <which>', 'accept without asking: numbers like 1,3, all or none'),
  ).action(
    async (key: string, opts: Conn & { milestone?: string; machine?: string; max?: string; accept?: string }) => {
      const api = await ApiClient.fromFlags(opts, config);
      const plan = await api.call<PlanView>(
        'POST',
        `${project(key)}/plan`,
        { milestone: opts.milestone, machine: opts.machine, maxFeatures: opts.max ? Number(opts.max) : undefined },
        210_000,
      );
      if (!opts.json) {
        out.line(`Proposed milestone: ${plan.milestone.title}`);
        if (plan.milestone.description) {
          out.line(plan.milestone.description);
        }
        out.line(
          `(from ${plan.sources.machine}:${plan.sources.path}: ${plan.sources.todos} TODO/FIXME, ${plan.sources.openBugs} open bugs${plan.sources.readme ? ', the README' : ''})`,
        );
        out.table(
          ['#', 'PRIORITY', 'FEATURE', 'SPEC'],
          plan.features.map((f) => [f.index + 1, f.priority, f.title, f.spec.split('\n')[0]?.slice(0, 60) ?? '']),
        );
      }
      let answer = opts.accept;
      if (answer === undefined && process.stdin.isTTY && !opts.json) {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        answer = await rl.question('Accept which features? (numbers like 1,3; all; none) ');
        rl.close();
      }
      if (answer === undefined) {
        if (opts.json) {
          return out.json(plan);
        }
        return out.line(`Nothing created. Accept with: waggle projects accept-plan ${plan.id} --features 1,3 (or all)`);
      }
      await acceptPlan(api, plan, answer, opts.json);
    },
  );

  connection(
    projects
      .command('accept-plan <plan>')
      .description('accept some features of a proposed plan (the rest are dropped)')
      .requiredOption('--features <which>', 'numbers like 1,3, all or none'),
  ).action(async (planId: string, opts: Conn & { features: string }) => {
    const api = await ApiClient.fromFlags(opts, config);
    const plan = await api.call<PlanView>('GET', `/api/plans/${encodeURIComponent(planId)}`);
    await acceptPlan(api, plan, opts.features, opts.json);
  });

  connection(
    projects
      .command('checkouts')
      .description('git repositories machines report under their source folders')
      .option('--machine <machine>')
      .option('--project <project>'),
  ).action(async (opts: Conn & { machine?: string; project?: string }) => {
    const api = await ApiClient.fromFlags(opts, config);
    const items = await api.all<CheckoutView>('/api/checkouts', { machine: opts.machine, project: opts.project });
    if (opts.json) {
      return out.json(items);
    }
    out.table(
      ['MACHINE', 'PATH', 'REMOTE', 'BRANCH', 'DIRTY', 'LAST COMMIT', 'PROJECT'],
      items.map((c) => [
        c.machineName,
        c.path,
        c.remote ?? '-',
        c.branch ?? '(detached)',
        c.dirty ? 'yes' : 'no',
        c.lastCommit ? `${c.lastCommit.sha.slice(0, 8)} ${c.lastCommit.subject.slice(0, 40)}` : '-',
        c.projectKey ?? '-',
      ]),
    );
  });

  connection(
    projects.command('list').description('projects in key order').option('--search <words>', 'only projects matching'),
  ).action(async (opts: Conn & { search?: string }) => {
    const api = await ApiClient.fromFlags(opts, config);
    const items = await api.all<ProjectView>('/api/projects', { q: opts.search });
    if (opts.json) {
      return out.json(items);
    }
    if (!items.length) {
      return out.line('No projects. Start with `waggle projects create NAME --repository OWNER/REPO`.');
    }
    out.table(
      ['KEY', 'NAME', 'REPOSITORY', 'BRANCH', 'OPEN ITEMS'],
      items.map((p) => [p.key, p.name, p.repository ?? '-', p.defaultBranch, p.openItems]),
    );
  });

  connection(projects.command('show <project>').description('a project and its milestones with their progress')).action(
    async (key: string, opts: Conn) => {
      const api = await ApiClient.fromFlags(opts, config);
      const found = await api.call<ProjectView>('GET', project(key));
      const milestones = await api.all<MilestoneView>(`${project(key)}/milestones`, {});
      if (opts.json) {
        return out.json({ ...found, milestones });
      }
      out.line(`${found.key}: ${found.name}`);
      out.line(`repository ${found.repository ?? '-'} (branch ${found.defaultBranch}), ${found.openItems} open items`);
      if (found.description) {
        out.line(found.description);
      }
      if (milestones.length) {
        out.table(
          ['#', 'MILESTONE', 'DUE', 'STATE', 'PROGRESS'],
          milestones.map((m) => [
            m.position,
            m.title,
            m.targetDate ?? '-',
            m.state,
            `${m.progress.closed}/${m.progress.total} (${m.progress.percent}%)`,
          ]),
        );
      }
    },
  );

  connection(
    projects
      .command('update <project>')
      .description('change a project')
      .option('--name <name>')
      .option('--repository <repo>')
      .option('--description <text>')
      .option('--branch <branch>')
      .option('--source <path>'),
  ).action(
    async (
      key: string,
      opts: Conn & { name?: string; repository?: string; description?: string; branch?: string; source?: string },
    ) => {
      const api = await ApiClient.fromFlags(opts, config);
      const changed = await api.call<ProjectView>('PATCH', project(key), {
        name: opts.name,
        repository: opts.repository,
        description: opts.description,
        defaultBranch: opts.branch,
        sourcePath: opts.source,
      });
      return opts.json ? out.json(changed) : out.line(`project ${changed.key} changed`);
    },
  );

  connection(projects.command('delete <project>').description('delete a project with everything in it')).action(
    async (key: string, opts: Conn) => {
      const api = await ApiClient.fromFlags(opts, config);
      await api.call('DELETE', project(key));
      out.line(`project ${key} deleted`);
    },
  );

  connection(
    projects
      .command('milestone <project> <title>')
      .description('add a milestone')
      .option('--due <date>', 'target date, YYYY-MM-DD')
      .option('--position <n>', 'place in the order, from 0 (default last)'),
  ).action(async (key: string, title: string, opts: Conn & { due?: string; position?: string }) => {
    const api = await ApiClient.fromFlags(opts, config);
    const made = await api.call<MilestoneView>('POST', `${project(key)}/milestones`, {
      title,
      targetDate: opts.due,
      position: opts.position === undefined ? undefined : Number(opts.position),
    });
    return opts.json ? out.json(made) : out.line(`milestone ${made.id} "${made.title}" at position ${made.position}`);
  });

  connection(
    projects
      .command('feature <project> <title>')
      .description('propose a feature')
      .option('--spec <markdown>', 'the spec')
      .option('--spec-file <file>', 'read the spec from a Markdown file')
      .option('--priority <p>', 'low, medium, high or urgent')
      .option('--milestone <id>'),
  ).action(
    async (
      key: string,
      title: string,
      opts: Conn & { spec?: string; specFile?: string; priority?: string; milestone?: string },
    ) => {
      const api = await ApiClient.fromFlags(opts, config);
      const spec = opts.specFile ? await readFile(opts.specFile, 'utf8') : opts.spec;
      const made = await api.call<WorkItemView>('POST', `${project(key)}/features`, {
        title,
        spec,
        priority: opts.priority,
        milestoneId: opts.milestone,
      });
      return opts.json ? out.json(made) : out.line(`${made.ref} proposed: ${made.title}`);
    },
  );

  connection(
    projects
      .command('bug <project> <title>')
      .description('report a bug')
      .option('--description <markdown>')
      .option('--steps <text>', 'steps to reproduce')
      .option('--environment <text>')
      .option('--severity <s>', 'minor, major, critical or blocker')
      .option('--priority <p>', 'low, medium, high or urgent')
      .option('--milestone <id>'),
  ).action(
    async (
      key: string,
      title: string,
      opts: Conn & {
        description?: string;
        steps?: string;
        environment?: string;
        severity?: string;
        priority?: string;
        milestone?: string;
      },
    ) => {
      const api = await ApiClient.fromFlags(opts, config);
      const made = await api.call<WorkItemView>('POST', `${project(key)}/bugs`, {
        title,
        description: opts.description,
        steps: opts.steps,
        environment: opts.environment,
        severity: opts.severity,
        priority: opts.priority,
        milestoneId: opts.milestone,
      });
      return opts.json ? out.json(made) : out.line(`${made.ref} reported: ${made.title}`);
    },
  );

  connection(
    projects
      .command('items <project>')
      .description("a project's features (or bugs), newest first")
      .option('--bugs', 'bugs instead of features')
      .option('--status <status>')
      .option('--milestone <id>', 'a milestone id, or none')
      .option('--search <words>'),
  ).action(
    async (key: string, opts: Conn & { bugs?: boolean; status?: string; milestone?: string; search?: string }) => {
      const api = await ApiClient.fromFlags(opts, config);
      const items = await api.all<WorkItemView>(`${project(key)}/${opts.bugs ? 'bugs' : 'features'}`, {
        status: opts.status,
        milestone: opts.milestone,
        q: opts.search,
      });
      if (opts.json) {
        return out.json(items);
      }
      if (!items.length) {
        return out.line(`No ${opts.bugs ? 'bugs' : 'features'} found.`);
      }
      out.table(['REF', 'STATUS', opts.bugs ? 'SEVERITY/PRIORITY' : 'PRIORITY', 'TITLE', 'WORK'], itemRows(items));
    },
  );

  connection(
    projects
      .command('move <item> <status>')
      .description('move a feature or bug (feature-12, bug-3) to a status')
      .option('--bug', 'the item is a bug (when given by id)'),
  ).action(async (item: string, status: string, opts: Conn & { bug?: boolean }) => {
    const api = await ApiClient.fromFlags(opts, config);
    const moved = await api.call<WorkItemView>('PATCH', itemPath(item, opts.bug), { status });
    return opts.json ? out.json(moved) : out.line(`${moved.ref} is ${moved.status}`);
  });

  connection(
    projects.command('comment <item> <text>').description('comment on a feature or bug').option('--bug'),
  ).action(async (item: string, text: string, opts: Conn & { bug?: boolean }) => {
    const api = await ApiClient.fromFlags(opts, config);
    await api.call('POST', `${itemPath(item, opts.bug)}/comments`, { body: text });
    out.line(`commented on ${item}`);
  });

  connection(projects.command('history <item>').description('every change of a feature or bug').option('--bug')).action(
    async (item: string, opts: Conn & { bug?: boolean }) => {
      const api = await ApiClient.fromFlags(opts, config);
      const entries = await api.all<HistoryEntryView>(`${itemPath(item, opts.bug)}/history`, {});
      if (opts.json) {
        return out.json(entries);
      }
      out.table(
        ['WHEN', 'WHO', 'WHAT', 'FROM', 'TO'],
        entries.map((h) => [ago(h.at), h.actor, h.field, h.from ?? '-', h.to ?? '-']),
      );
    },
  );

  connection(
    projects
      .command('assign <item>')
      .description('hand a feature or bug to an agent: it works in a fresh checkout and opens a pull request')
      .option('--bug')
      .option('--machine <machine>', 'the machine to run it (default: any capable one)')
      .option('--needs <tag>', 'capability the machine must have, repeatable', repeat, [] as string[])
      .option('--cli <cli>', 'agent CLI: claude, codex, gemini or ollama'),
  ).action(async (item: string, opts: Conn & { bug?: boolean; machine?: string; needs: string[]; cli?: string }) => {
    const api = await ApiClient.fromFlags(opts, config);
    const assigned = await api.call<WorkItemView>('POST', `${itemPath(item, opts.bug)}/assign`, {
      target: opts.machine,
      capabilities: opts.needs.length ? opts.needs : undefined,
      cli: opts.cli,
    });
    if (opts.json) {
      return out.json(assigned);
    }
    if (!assigned.taskId) {
      throw new CliError(`${assigned.ref} was not handed over: ${assigned.lastFailure ?? 'no task was made'}`);
    }
    out.line(
      `${assigned.ref} is ${assigned.status}: task ${assigned.taskId} (follow it with \`waggle tasks get ${assigned.taskId}\`)`,
    );
  });
}
