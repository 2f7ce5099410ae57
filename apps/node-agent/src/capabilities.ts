import { arch, cpus, hostname, platform, totalmem } from 'node:os';

import type { AgentCliInfo, AgentCliName, Capabilities, GpuInfo, ToolInfo } from '@waggle/contracts';

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
): Promise<Capabilities> {
  const agents: AgentCliInfo[] = [];
  for (const [name, args] of Object.entries(AGENT_VERSION_ARGS) as [AgentCliName, string[]][]) {
    const out = await probe(name, args);
    if (out === undefined) {
      continue;
    }
    const info: AgentCliInfo = { name, version: versionOf(out) };
    if (name === 'ollama') {
      info.models = parseOllamaList((await probe('ollama', ['list'])) ?? '');
    }
    agents.push(info);
  }
  const tools: ToolInfo[] = [];
  for (const [name, args] of TOOLS) {
    const out = await probe(name, args);
    if (out !== undefined) {
      tools.push({ name, version: versionOf(out) });
    }
  }
  return {
    os: platform(),
    arch: arch(),
    hostname: hostname(),
    cpus: cpus().length || 1,
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    agents,
    tools,
    gpus: await gpus(),
    labels,
    ...execution,
    // github-issue tasks need both the identity and git.
    github: !!execution.github && tools.some((t) => t.name === 'git'),
  };
}
