import { createConnection } from 'node:net';

import type { Command } from 'commander';

import type {
  AgentCliName,
  AgentSocketRequest,
  HelpStatusReply,
  HelpView,
  RpcReply,
  TaskKind,
} from '@waggle/contracts';
import { FINAL_TASK_STATES } from '@waggle/contracts';

import { CliError } from '../api-client';
import type { CliConfig } from '../cli.config';
import { out } from '../output';

interface HelpFlags {
  capability: string[];
  label: string[];
  reason: string;
  kind?: TaskKind;
  prompt?: string;
  /** Checked by the agent when it decodes the request. */
  cli?: AgentCliName;
  model?: string;
  program?: string;
  arg: string[];
  script?: string;
  timeout?: number;
  maxEta?: number;
  wait?: boolean;
  json?: boolean;
}

const collect = (v: string, all: string[]) => [...all, v];
const POLL_MS = 1_000;

/** One request to the node-agent that runs this task, over its local socket. */
export function askAgent<T>(socketPath: string, message: AgentSocketRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => (text += data));
    socket.on('error', (error) =>
      reject(new CliError(`cannot reach the node-agent at ${socketPath}: ${error.message}`)),
    );
    socket.on('end', () => {
      let reply: RpcReply<T>;
      try {
        reply = JSON.parse(text) as RpcReply<T>;
      } catch {
        reject(new CliError('the node-agent gave no answer'));
        return;
      }
      if (reply.ok) {
        resolve(reply.data);
      } else {
        reject(new CliError(`${reply.error.code}: ${reply.error.message}`));
      }
    });
    socket.end(JSON.stringify(message) + '\n');
  });
}

export function registerHelp(program: Command, config: CliConfig) {
  // `waggle help` is this command; `waggle --help` and `waggle COMMAND --help` still show usage.
  program.helpCommand(false);
  program
    .command('help')
    .description('from inside a task: ask a peer machine for help (a child task on the first that can take it)')
    .requiredOption('--reason <text>', 'what is needed and why (also the prompt, unless the work is given)')
    .option('--capability <tag>', 'the helper must have this capability (repeatable)', collect, [] as string[])
    .option('--label <label>', 'the helper must have this label (repeatable)', collect, [] as string[])
    .option('--kind <kind>', 'agent (default), command or shell')
    .option('--prompt <text>', 'agent: the prompt (default: the reason)')
    .option('--cli <name>', 'agent: claude, codex, gemini or ollama')
    .option('--model <name>', 'agent with ollama: the model')
    .option('--program <path>', 'command: the program')
    .option('--arg <value>', 'command: an argument (repeatable, in order)', collect, [] as string[])
    .option('--script <text>', 'shell: the script')
    .option('--timeout <seconds>', "the child task's timeout", (v) => Number(v))
    .option('--max-eta <seconds>', 'take no offer that starts later than this (default 600)', (v) => Number(v))
    .option('--wait', "wait for the child task's result (exit code 0 only if it succeeded)")
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nRuns inside a task started by a node-agent (it sets WAGGLE_AGENT_SOCKET, WAGGLE_TASK_ID and WAGGLE_TASK_ATTEMPT).',
    )
    .action(async (f: HelpFlags) => {
      const socketPath = config.WAGGLE_AGENT_SOCKET;
      const taskId = config.WAGGLE_TASK_ID;
      const attempt = config.WAGGLE_TASK_ATTEMPT;
      if (!socketPath || !taskId || !attempt) {
        throw new CliError(
          'waggle help runs inside a Waggle task (WAGGLE_AGENT_SOCKET, WAGGLE_TASK_ID and WAGGLE_TASK_ATTEMPT are not set)',
          2,
        );
      }
      const given = {
        prompt: f.prompt,
        cli: f.cli,
        model: f.model,
        program: f.program,
        args: f.arg.length ? f.arg : undefined,
        script: f.script,
      };
      const hasInput = Object.values(given).some((v) => v !== undefined);
      const help = await askAgent<HelpView>(socketPath, {
        op: 'help',
        body: {
          v: 1,
          taskId,
          attempt,
          requires: { capabilities: f.capability, labels: f.label },
          reason: f.reason,
          kind: f.kind,
          // No work given: the helper's agent CLI gets the reason as its prompt.
          input: hasInput
            ? { ...given, prompt: given.prompt ?? ((f.kind ?? 'agent') === 'agent' ? f.reason : undefined) }
            : undefined,
          timeoutSeconds: f.timeout,
          maxEtaSeconds: f.maxEta,
        },
      });
      if (help.state === 'unanswered') {
        if (f.json) {
          out.json(help);
        }
        const reasons = help.answers.map((a) => `  ${a.name}: ${a.reason ?? 'declined'}`).join('\n');
        throw new CliError(`no peer can help${reasons ? `:\n${reasons}` : ' (no other machines)'}`, 3);
      }
      if (!f.wait) {
        if (f.json) {
          return out.json(help);
        }
        out.line(`${help.helper!.name} will help (ETA ${help.etaSeconds} s): child task ${help.childTaskId}`);
        return;
      }
      out.error(`[waggle] ${help.helper!.name} will help (ETA ${help.etaSeconds} s): child task ${help.childTaskId}`);
      let last = '';
      for (;;) {
        const status = await askAgent<HelpStatusReply>(socketPath, {
          op: 'help-status',
          body: { v: 1, taskId, attempt, helpId: help.id },
        });
        const child = status.child!;
        const now = `${child.state}${child.machine ? ` on ${child.machine}` : ''}`;
        if (now !== last) {
          out.error(`[waggle] child task ${now}`);
        }
        last = now;
        if (FINAL_TASK_STATES.has(child.state)) {
          if (f.json) {
            out.json(status);
          } else if (child.result) {
            out.line(child.result.outputTail);
          }
          if (child.state !== 'succeeded') {
            throw new CliError(
              `the child task ${child.state}${child.result?.error ? `: ${child.result.error}` : ''}`,
              1,
            );
          }
          return;
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    });
}
