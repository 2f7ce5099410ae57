import type { AgentCliName, Capabilities, TaskInput } from '@waggle/contracts';
import { AGENT_CLIS, WaggleError } from '@waggle/contracts';

/** How each agent CLI runs a prompt, non-interactively. Each entry is one argument. */
export const DEFAULT_CLI_COMMANDS: Record<AgentCliName, string[]> = {
  claude: ['claude', '-p', '{prompt}'],
  codex: ['codex', 'exec', '{prompt}'],
  gemini: ['gemini', '-p', '{prompt}'],
  ollama: ['ollama', 'run', '{model}', '{prompt}'],
};

/** Parses a `WAGGLE_AGENT_CLI_<NAME>` override: a JSON array of strings. */
export function parseCliCommand(name: string, json: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`WAGGLE_AGENT_CLI_${name.toUpperCase()} must be a JSON array of strings`);
  }
  if (!Array.isArray(value) || !value.length || !value.every((v) => typeof v === 'string')) {
    throw new Error(`WAGGLE_AGENT_CLI_${name.toUpperCase()} must be a non-empty JSON array of strings`);
  }
  return value;
}

/**
 * The argument array for an agent task. Placeholders are replaced as whole arguments: a
 * prompt is one argv entry whatever it contains, never shell text.
 */
export function agentCommand(
  input: TaskInput,
  capabilities: Capabilities,
  commands: Record<AgentCliName, string[]>,
): string[] {
  const installed = new Set(capabilities.agents.map((a) => a.name));
  const cli = input.cli ?? AGENT_CLIS.find((name) => installed.has(name));
  if (!cli || !installed.has(cli)) {
    throw WaggleError.invalid(`agent CLI ${cli ?? '(any)'} is not installed on this machine`);
  }
  const model = input.model ?? capabilities.agents.find((a) => a.name === 'ollama')?.models?.[0] ?? '';
  if (cli === 'ollama' && !model) {
    throw WaggleError.invalid('ollama needs a model (input.model)');
  }
  return commands[cli].map((arg) => (arg === '{prompt}' ? (input.prompt ?? '') : arg === '{model}' ? model : arg));
}
