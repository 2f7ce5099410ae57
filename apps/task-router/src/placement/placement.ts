import type { MachineView, TaskInput, TaskKind, TaskRequirements, WaitingReason } from '@waggle/contracts';
import { AGENT_CLIS } from '@waggle/contracts';

/** What placement needs to know of a task. */
export interface PlacementTask {
  kind: TaskKind;
  input: TaskInput;
  requires: TaskRequirements;
}

/** The capability tags a task needs, beyond its explicit requirements: what its kind runs. */
export function impliedRequirements(task: PlacementTask): { all: string[]; anyOf: string[] } {
  const all = [...(task.requires.capabilities ?? [])];
  let anyOf: string[] = [];
  if (task.kind === 'github-issue') {
    all.push('github', 'git');
  }
  if (task.kind === 'agent' || task.kind === 'github-issue') {
    if (task.input.cli === 'ollama' && task.input.model) {
      all.push(`ollama:${task.input.model}`);
    } else if (task.input.cli) {
      all.push(task.input.cli);
    } else {
      anyOf = [...AGENT_CLIS];
    }
  }
  if (task.kind === 'command') {
    all.push('allow:command');
  }
  if (task.kind === 'shell') {
    all.push('allow:shell');
  }
  return { all: [...new Set(all)], anyOf };
}

/** Why this machine can never run the task (missing capability, label, or permission), or [] if it can. */
export function staticMismatch(task: PlacementTask, machine: Pick<MachineView, 'capabilityTags' | 'labels'>): string[] {
  const reasons: string[] = [];
  const { all, anyOf } = impliedRequirements(task);
  for (const tag of all) {
    if (machine.capabilityTags.includes(tag)) {
      continue;
    }
    if (tag === 'allow:command') {
      reasons.push('does not run command tasks (start it with --allow-command)');
    } else if (tag === 'allow:shell') {
      reasons.push('does not run shell tasks (start it with --allow-shell)');
    } else if (tag === 'github') {
      reasons.push('has no GitHub identity (start it with --github-token-file)');
    } else {
      reasons.push(`missing capability ${tag}`);
    }
  }
  if (anyOf.length && !anyOf.some((t) => machine.capabilityTags.includes(t))) {
    reasons.push(`has none of ${anyOf.join(', ')}`);
  }
  for (const label of task.requires.labels ?? []) {
    if (!machine.labels.includes(label)) {
      reasons.push(`missing label ${label}`);
    }
  }
  return reasons;
}

export function slotsOf(machine: Pick<MachineView, 'capabilities'>): number {
  return machine.capabilities?.slots ?? 1;
}

export type PlacementDecision = { machine: MachineView } | { waiting: WaitingReason };

/**
 * Chooses where an untargeted task runs: an online machine that has what the task needs
 * and a free slot, the least loaded first (fewest used slots, then lowest CPU load). When
 * none can, says why for every machine.
 */
export function place(
  task: PlacementTask,
  machines: MachineView[],
  active: ReadonlyMap<string, number>,
): PlacementDecision {
  const candidates: WaitingReason['candidates'] = [];
  const eligible: { machine: MachineView; load: number }[] = [];
  for (const machine of machines) {
    const reasons = staticMismatch(task, machine);
    if (machine.status !== 'online') {
      reasons.unshift(machine.status);
    }
    const used = active.get(machine.id) ?? 0;
    const slots = slotsOf(machine);
    if (used >= slots) {
      reasons.push(`no free slot (${used}/${slots} in use)`);
    }
    if (reasons.length) {
      candidates.push({ machineId: machine.id, name: machine.name, reasons });
    } else {
      eligible.push({ machine, load: used / slots });
    }
  }
  eligible.sort(
    (a, b) =>
      a.load - b.load ||
      (a.machine.metrics?.cpuLoad ?? 0) - (b.machine.metrics?.cpuLoad ?? 0) ||
      a.machine.name.localeCompare(b.machine.name),
  );
  const best = eligible[0];
  if (best) {
    return { machine: best.machine };
  }
  const summary = machines.length
    ? 'no online machine with what this task needs has a free slot'
    : 'no machines have joined';
  return { waiting: { summary, candidates } };
}
