import type { Command } from 'commander';

import type { Page, TaskLogsPage, TaskView } from '@waggle/contracts';
import { FINAL_TASK_STATES } from '@waggle/contracts';

import { ApiClient, CliError } from '../api-client';
import type { CliConfig } from '../cli.config';
import { ago, out, state, until } from '../output';
import { watch } from '../watch';

interface Connection {
  hub?: string;
  token?: string;
  stateDir?: string;
}

interface CreateFlags extends Connection {
  title: string;
  kind: string;
  prompt?: string;
  cli?: string;
  model?: string;
  program?: string;
  arg: string[];
  script?: string;
  cwd?: string;
  target?: string;
  capability: string[];
  label: string[];
  priority?: number;
  timeout?: number;
  maxAttempts?: number;
  retryOn: string[];
  retryExitCode: number[];
  retryBackoff?: number;
  secret: string[];
  project?: string;
  json?: boolean;
}

/** `--secret ENV=NAME` (repeatable) → `{ ENV: NAME }`. */
export function secretRefs(pairs: string[]): Record<string, string> | undefined {
  if (!pairs.length) {
    return undefined;
  }
  const refs: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) {
      throw new CliError(`--secret takes ENV_VAR=secret-name, not "${pair}"`, 2);
    }
    refs[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return refs;
}

const collect = (v: string, all: string[]) => [...all, v];
const collectNumber = (v: string, all: number[]) => [...all, Number(v)];
const withConnection = (cmd: Command) =>
  cmd
    .option('--hub <url>')
    .option('--token <token>')
    .option('--state-dir <dir>', 'act as the machine whose state dir this is');

function summary(t: TaskView): string {
  const where = t.machine ? ` on ${t.machine.name}` : t.target ? ` for ${t.target.name}` : '';
  const next = t.retryAt ? ` (next attempt ${until(t.retryAt)})` : '';
  return `${t.id}  ${state(t.state)}${where}  attempt ${t.attempt}/${t.maxAttempts}${next}  ${t.title}`;
}

/** What a cancel did: a task that had not started is cancelled; a running one is being stopped. */
function cancelled(t: TaskView): string {
  if (t.state === 'cancelled') {
    return `cancelled: ${summary(t)}`;
  }
  const short = t.id.slice(0, 8);
  return `stopping: ${summary(t)}\n  its processes get SIGINT now, then SIGTERM and SIGKILL; \`waggle tasks get ${short}\` shows when it ended`;
}

/** What the task's retry policy says, truthfully: which failures get another attempt, after how long. */
function retryLine(t: TaskView): string {
  const on = [
    'lost',
    ...(t.retry.on ?? []).filter((k) => k !== 'lost'),
    ...(t.retry.exitCodes?.length ? [`exit ${t.retry.exitCodes.join(', ')}`] : []),
  ];
  if (t.maxAttempts <= 1) {
    return 'retries: none (1 attempt)';
  }
  const backoff = t.retry.backoffSeconds ? `, after ${t.retry.backoffSeconds} s doubling each time` : '';
  return `retries: on ${on.join(', ')}, up to ${t.maxAttempts} attempts${backoff}`;
}

function showWhy(t: TaskView) {
  if (t.state !== 'queued' || !t.waiting) {
    out.line(`${t.title}: ${t.state}${t.machine ? ` on ${t.machine.name}` : ''}`);
    return;
  }
  out.line(`${t.title}: waiting — ${t.waiting.summary}`);
  out.table(
    ['MACHINE', 'PASSED OVER BECAUSE'],
    t.waiting.candidates.map((c) => [c.name, c.reasons.join('; ')]),
  );
}

/** Tasks as a table: short ids (any unique prefix is taken back), states in colour on a terminal. */
function tasksTable(items: TaskView[]) {
  out.table(
    ['ID', 'STATE', 'MACHINE', 'ATTEMPT', 'CREATED', 'TITLE'],
    items.map((t) => [
      t.id.slice(0, 8),
      state(t.state),
      t.machine?.name ?? t.target?.name ?? '-',
      `${t.attempt}/${t.maxAttempts}${t.retryAt ? ` (next ${until(t.retryAt)})` : ''}`,
      ago(t.createdAt),
      t.title,
    ]),
  );
}

export function registerTasks(program: Command, config: CliConfig) {
  const tasks = program.command('tasks').description('create, watch and control tasks');

  withConnection(
    tasks
      .command('create')
      .description('create a task')
      .requiredOption('--title <title>')
      .requiredOption('--kind <kind>', 'agent, command or shell')
      .option('--prompt <text>', 'agent: the prompt')
      .option('--cli <name>', 'agent: claude, codex, gemini or ollama')
      .option('--model <name>', 'agent with ollama: the model')
      .option('--program <path>', 'command: the program')
      .option('--arg <value>', 'command: an argument (repeatable, in order)', collect, [] as string[])
      .option('--script <text>', 'shell: the script')
      .option('--cwd <dir>', 'working directory on the machine')
      .option('--target <machine>', 'run on this machine (waits while it is off)')
      .option('--capability <tag>', 'required capability (repeatable)', collect, [] as string[])
      .option('--label <label>', 'required label (repeatable)', collect, [] as string[])
      .option('--priority <n>', '0..100', (v) => Number(v))
      .option('--timeout <seconds>', 'timeout in seconds', (v) => Number(v))
      .option('--max-attempts <n>', 'attempts before failing', (v) => Number(v))
      .option(
        '--retry-on <kind>',
        'also try again after: timeout, failure (any non-zero exit); repeatable (a lost attempt always is)',
        collect,
        [] as string[],
      )
      .option('--retry-exit-code <n>', 'try again after this exit code (repeatable)', collectNumber, [] as number[])
      .option('--retry-backoff <seconds>', 'wait before the first retry, doubled each time (5)', (v) => Number(v))
      .option(
        '--secret <ENV=NAME>',
        "a vault secret in the task's environment (repeatable): sealed to the running machine, masked in output",
        collect,
        [] as string[],
      )
      .option('--project <name>', "the task's project: its secrets are in reach besides global ones")
      .option('--json', 'print JSON'),
  ).action(async (f: CreateFlags) => {
    const api = await ApiClient.fromFlags(f, config);
    const input = {
      prompt: f.prompt,
      cli: f.cli,
      model: f.model,
      program: f.program,
      args: f.arg.length ? f.arg : undefined,
      script: f.script,
      cwd: f.cwd,
    };
    const task = await api.call<TaskView>('POST', '/api/tasks', {
      title: f.title,
      kind: f.kind,
      input,
      target: f.target,
      requires: f.capability.length || f.label.length ? { capabilities: f.capability, labels: f.label } : undefined,
      priority: f.priority,
      timeoutSeconds: f.timeout,
      maxAttempts: f.maxAttempts,
      retry:
        f.retryOn.length || f.retryExitCode.length || f.retryBackoff !== undefined
          ? { on: f.retryOn, exitCodes: f.retryExitCode, backoffSeconds: f.retryBackoff }
          : undefined,
      secrets: secretRefs(f.secret),
      project: f.project,
    });
    if (f.json) {
      return out.json(task);
    }
    out.line(summary(task));
  });

  withConnection(
    tasks
      .command('list')
      .description('list tasks, newest first')
      .option('--state <state>')
      .option('--machine <machine>')
      .option('--kind <kind>')
      .option('--limit <n>', 'how many (default 50)', (v) => Number(v))
      .option('--watch', 'keep the list up to date as tasks change')
      .option('--json'),
  ).action(
    async (
      f: Connection & {
        state?: string;
        machine?: string;
        kind?: string;
        limit?: number;
        json?: boolean;
        watch?: boolean;
      },
    ) => {
      const api = await ApiClient.fromFlags(f, config);
      const params = new URLSearchParams(
        Object.entries({ state: f.state, machine: f.machine, kind: f.kind, limit: String(f.limit ?? 50) }).filter(
          (e): e is [string, string] => !!e[1],
        ),
      );
      const fetch = async () => (await api.call<Page<TaskView>>('GET', `/api/tasks?${params.toString()}`)).items;
      const draw = (items: TaskView[]) => (f.json ? out.json(items) : tasksTable(items));
      if (f.watch) {
        return watch(api, (type) => type.startsWith('task.'), fetch, draw);
      }
      draw(await fetch());
    },
  );

  withConnection(tasks.command('get <id>').description('a task with every attempt').option('--json')).action(
    async (id: string, f: Connection & { json?: boolean }) => {
      const task = await (
        await ApiClient.fromFlags(f, config)
      ).call<TaskView>('GET', `/api/tasks/${encodeURIComponent(id)}`);
      if (f.json) {
        return out.json(task);
      }
      out.line(summary(task));
      out.line(retryLine(task));
      out.table(
        ['ATTEMPT', 'MACHINE', 'STATE', 'STARTED', 'EXIT'],
        task.attempts.map((a) => [
          a.attempt,
          a.machineName,
          state(a.state),
          a.startedAt ? ago(a.startedAt) : '-',
          a.result?.exitCode ?? '-',
        ]),
      );
      if (task.result) {
        out.line(
          `result: ${task.result.outcome}${task.result.error ? ` (${task.result.error})` : ''}\n${task.result.outputTail}`,
        );
      }
    },
  );

  withConnection(
    tasks.command('why <id>').description('why a queued task waits: each machine and the reason').option('--json'),
  ).action(async (id: string, f: Connection & { json?: boolean }) => {
    const task = await (
      await ApiClient.fromFlags(f, config)
    ).call<TaskView>('GET', `/api/tasks/${encodeURIComponent(id)}`);
    if (f.json) {
      return out.json({ id: task.id, state: task.state, waiting: task.waiting, retryAt: task.retryAt });
    }
    showWhy(task);
  });

  withConnection(
    tasks
      .command('logs <id>')
      .description("a task's output")
      .option('--follow', 'keep printing until the task ends')
      .option('--json', 'one JSON object per chunk and line: { seq, stream, data }'),
  ).action(async (id: string, f: Connection & { follow?: boolean; json?: boolean }) => {
    const api = await ApiClient.fromFlags(f, config);
    const write = (chunks: TaskLogsPage['items']) => {
      for (const chunk of chunks) {
        if (f.json) {
          process.stdout.write(`${JSON.stringify({ seq: chunk.seq, stream: chunk.stream, data: chunk.data })}\n`);
        } else {
          (chunk.stream === 'stderr' ? process.stderr : process.stdout).write(chunk.data);
        }
      }
    };
    let after = 0;
    for (;;) {
      const page = await api.call<TaskLogsPage>('GET', `/api/tasks/${encodeURIComponent(id)}/logs?after=${after}`);
      write(page.items);
      after = page.next;
      if (!f.follow) {
        return;
      }
      if (!page.items.length) {
        const task = await api.call<TaskView>('GET', `/api/tasks/${encodeURIComponent(id)}`);
        if (FINAL_TASK_STATES.has(task.state)) {
          const rest = await api.call<TaskLogsPage>('GET', `/api/tasks/${encodeURIComponent(id)}/logs?after=${after}`);
          write(rest.items);
          out.error(
            `[waggle] task ${task.state}${task.result?.exitCode !== undefined && task.result?.exitCode !== null ? ` (exit ${task.result.exitCode})` : ''}`,
          );
          if (task.state !== 'succeeded') {
            throw new CliError('', 1);
          }
          return;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  });

  for (const action of ['cancel', 'retry'] as const) {
    withConnection(
      tasks
        .command(`${action} <id>`)
        .description(action === 'cancel' ? 'cancel a task (stops its process)' : 'queue a failed task again')
        .option('--json', 'print the task as JSON'),
    ).action(async (id: string, f: Connection & { json?: boolean }) => {
      const task = await (
        await ApiClient.fromFlags(f, config)
      ).call<TaskView>('POST', `/api/tasks/${encodeURIComponent(id)}/${action}`);
      if (f.json) {
        return out.json(task);
      }
      out.line(action === 'cancel' ? cancelled(task) : `queued again: ${summary(task)}`);
    });
  }
}
