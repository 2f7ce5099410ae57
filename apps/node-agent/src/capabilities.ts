import { execFile } from 'node:child_process';
import { arch, cpus, hostname, platform, totalmem } from 'node:os';

import type { AgentCliInfo, AgentCliName, Capabilities, GpuInfo, ToolInfo } from '@waggle/contracts';

/** Runs a program (argument array, never a shell) and returns its output, or undefined if it is missing or fails. */
export function probe(program: string, args: string[], timeoutMs = 5_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(program, args, { timeout: timeoutMs, windowsHide: true, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      resolve(error ? undefined : (stdout || stderr).trim());
    });
  });
}

/** First version-looking token of a `--version` output. */
export function versionOf(output: string): string {
  return /\d+\.\d+(\.\d+)?([-+.\w]*)?/.exec(output)?.[0] ?? output.split('\n')[0].slice(0, 100);
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

/** `nvidia-smi --query-gpu=name,memory.total,utilization.gpu --format=csv,noheader,nounits` lines. */
export function parseNvidiaSmi(output: string): GpuInfo[] {
  return output
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [name, memory, utilization] = line.split(',').map((s) => s.trim());
      return { name, memoryMb: Number(memory) || undefined, utilizationPercent: Number.isFinite(Number(utilization)) ? Number(utilization) : undefined };
    });
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
): Promise<Capabilities> {
  const agents: AgentCliInfo[] = [];
  for (const [name, args] of Object.entries(AGENT_VERSION_ARGS) as [AgentCliName, string[]][]) {
    const out = await probe(name, args);
    if (out === undefined) continue;
    const info: AgentCliInfo = { name, version: versionOf(out) };
    if (name === 'ollama') info.models = parseOllamaList((await probe('ollama', ['list'])) ?? '');
    agents.push(info);
  }
  const tools: ToolInfo[] = [];
  for (const [name, args] of TOOLS) {
    const out = await probe(name, args);
    if (out !== undefined) tools.push({ name, version: versionOf(out) });
  }
  const smi = await probe('nvidia-smi', ['--query-gpu=name,memory.total,utilization.gpu', '--format=csv,noheader,nounits']);
  return {
    os: platform(),
    arch: arch(),
    hostname: hostname(),
    cpus: cpus().length || 1,
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    agents,
    tools,
    gpus: smi ? parseNvidiaSmi(smi) : [],
    labels,
    ...execution,
    // github-issue tasks need both the identity and git.
    github: !!execution.github && tools.some((t) => t.name === 'git'),
  };
}
