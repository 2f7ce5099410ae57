import type { MachineView, TaskKind } from '../../api/types';

export interface Draft {
  kind: TaskKind;
  target: string | null;
  capabilities: string[];
  labels: string[];
  cli: string | null;
}

const AGENT_CLIS = ['claude', 'codex', 'gemini', 'ollama'];

/**
 * Why a machine could not run the draft (empty: it could). The same rules the task-router
 * applies when it picks a machine: the target, every required capability tag and label, an
 * agent CLI for agent tasks, shell tasks only where the machine opted in, never a revoked one.
 */
export function reasonsAgainst(m: MachineView, d: Draft): string[] {
  const reasons: string[] = [];
  if (m.status === 'revoked') {
    reasons.push('revoked');
  }
  if (d.target && d.target !== m.id && d.target !== m.name) {
    reasons.push('not the target');
  }
  const tags = new Set(m.capabilityTags);
  for (const c of d.capabilities) {
    if (!tags.has(c)) {
      reasons.push(`lacks ${c}`);
    }
  }
  const labels = new Set(m.labels);
  for (const l of d.labels) {
    if (!labels.has(l)) {
      reasons.push(`no label ${l}`);
    }
  }
  if (d.kind === 'agent') {
    if (d.cli ? !tags.has(d.cli) : !AGENT_CLIS.some((c) => tags.has(c))) {
      reasons.push(d.cli ? `no ${d.cli}` : 'no agent CLI');
    }
  }
  if (d.kind === 'command' && !tags.has('allow:command')) {
    reasons.push('does not run commands');
  }
  if (d.kind === 'shell' && !tags.has('allow:shell')) {
    reasons.push('does not run shell tasks');
  }
  return reasons;
}
