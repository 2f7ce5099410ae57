import { arch, cpus, hostname, platform, totalmem } from 'node:os';

import type { AgentCliInfo, AgentCliName, Capabilities, GpuInfo, ToolInfo } from '@waggle/contracts';

import type { Probe } from './system-metrics';
import { gpuInfos, probe, systemSource } from './system-metrics';

export { parseNvidiaSmi, probe } from './system-metrics';

/** First version-looking token of a `--version` output. */
export function versionOf(output: string): string {
  return /\d+\.\d+(\.\d+)?([-+.\w]*)?/.exec(output)?.[0] ?? (output.split('\n')[0] ?? '').slice(0, 100);
}

/** Model names from `ollama list` (first column, header skipped). */
export function parseOllamaList(output: string): string[] {
  return output
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((name): name is string => !!name)
    .map((name) => name.replace(/:latest$/, ''));
}

const AGENT_VERSION_ARGS: Record<AgentCliName, string[]> = {
  claude: ['--version'],
  codex: ['--version'],
  gemini: ['--version'],
  ollama: ['--version'],
};

const TOOLS: [string, string[]][] = [
  ['git', ['--version']],
  ['tmux', ['-V']],
  ['docker', ['--version']],
];

/** What this machine is and can run: agent CLIs with versions (ollama with its models), tools, GPUs. */
export interface ExecutionOptions {
  slots: number;
  allowCommand: boolean;
  allowShell: boolean;
  /** A GitHub identity is configured. */
  github?: boolean;
}

export async function detectCapabilities(
  labels: string[],
  execution: ExecutionOptions = { slots: 1, allowCommand: false, allowShell: false },
  /** Compute GPUs (the agent passes its sampler's, discovered once with systeminformation). */
  gpus: () => Promise<GpuInfo[]> = async () => gpuInfos(await systemSource.gpus()),
  /** How each `--version` is run (the agent: through its task helper). */
  run: Probe = probe,
): Promise<Capabilities> {
  // All at once: each is a program start, and none depends on another.
  const [agentOutputs, toolOutputs, gpuList] = await Promise.all([
    Promise.all(
      (Object.entries(AGENT_VERSION_ARGS) as [AgentCliName, string[]][]).map(async ([name, args]) => {
        const out = await run(name, args);
        const models =
          out !== undefined && name === 'ollama' ? parseOllamaList((await run('ollama', ['list'])) ?? '') : undefined;
        return { name, out, models };
      }),
    ),
    Promise.all(TOOLS.map(async ([name, args]) => ({ name, out: await run(name, args) }))),
    gpus(),
  ]);
  const agents: AgentCliInfo[] = agentOutputs
    .filter((a) => a.out !== undefined)
    .map(({ name, out, models }) => ({ name, version: versionOf(out!), ...(models ? { models } : {}) }));
  const tools: ToolInfo[] = toolOutputs
    .filter((t) => t.out !== undefined)
    .map(({ name, out }) => ({ name, version: versionOf(out!) }));
  return {
    os: platform(),
    arch: arch(),
    hostname: hostname(),
    cpus: cpus().length || 1,
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    agents,
    tools,
    gpus: gpuList,
    labels,
    ...execution,
    // github-issue tasks need both the identity and git.
    github: !!execution.github && tools.some((t) => t.name === 'git'),
  };
}
