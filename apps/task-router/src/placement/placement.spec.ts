import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { MachineView } from '@waggle/contracts';

import { impliedRequirements, place, staticMismatch } from './placement';

function machine(
  name: string,
  overrides: Partial<MachineView> & { slots?: number; cpuLoad?: number } = {},
): MachineView {
  return {
    id: `id-${name}`,
    name,
    status: 'online',
    permissions: [],
    labels: [],
    capabilityTags: ['git', 'claude'],
    capabilities: {
      os: 'linux',
      arch: 'x64',
      hostname: name,
      cpus: 4,
      memoryMb: 1,
      agents: [],
      tools: [],
      gpus: [],
      labels: [],
      slots: overrides.slots ?? 1,
    },
    metrics: {
      cpuLoad: overrides.cpuLoad ?? 0,
      memoryUsedMb: 0,
      memoryTotalMb: 1,
      diskFreeMb: 1,
      diskTotalMb: 1,
      uptimeSeconds: 1,
    },
    agentVersion: '0',
    lastSeenAt: null,
    joinedAt: '',
    revokedAt: null,
    ...overrides,
  };
}

const agentTask = { kind: 'agent' as const, input: { prompt: 'x' }, requires: {} };

describe('placement', () => {
  it('sends a github-issue task only to a machine with a GitHub identity, git and an agent CLI', () => {
    const task = { kind: 'github-issue' as const, input: { prompt: 'x', cli: 'claude' as const }, requires: {} };
    assert.deepEqual(impliedRequirements(task).all.sort(), ['claude', 'git', 'github']);
    assert.deepEqual(staticMismatch(task, machine('plain')), [
      'has no GitHub identity (start it with --github-token-file)',
    ]);
    assert.deepEqual(staticMismatch(task, machine('ready', { capabilityTags: ['git', 'claude', 'github'] })), []);
  });

  it('derives what a kind needs', () => {
    assert.deepEqual(
      impliedRequirements({
        kind: 'agent',
        input: { cli: 'ollama', model: 'llama3' },
        requires: { capabilities: ['gpu'] },
      }).all,
      ['gpu', 'ollama:llama3'],
    );
    assert.deepEqual(impliedRequirements(agentTask).anyOf, ['claude', 'codex', 'gemini', 'ollama']);
    assert.deepEqual(impliedRequirements({ kind: 'shell', input: { script: 'x' }, requires: {} }).all, ['allow:shell']);
  });

  it('says why a machine can never run a task', () => {
    const m = machine('a', { labels: ['room=lab'] });
    assert.deepEqual(
      staticMismatch(
        { kind: 'command', input: { program: 'x' }, requires: { capabilities: ['gpu'], labels: ['room=office'] } },
        m,
      ),
      [
        'missing capability gpu',
        'does not run command tasks (start it with --allow-command)',
        'missing label room=office',
      ],
    );
    assert.deepEqual(staticMismatch(agentTask, m), []);
  });

  it('prefers the least loaded eligible machine, then the lowest CPU load', () => {
    const busy = machine('busy', { slots: 2 });
    const idle = machine('idle', { slots: 2, cpuLoad: 0.9 });
    const cool = machine('cool', { slots: 2, cpuLoad: 0.1 });
    const decision = place(agentTask, [busy, idle, cool], new Map([['id-busy', 1]]));
    assert.ok('machine' in decision);
    assert.equal(decision.machine.name, 'cool');
  });

  it('explains waiting: offline, missing capability, no free slot', () => {
    const decision = place(
      { ...agentTask, requires: { capabilities: ['gpu'] } },
      [
        machine('off', { status: 'offline', capabilityTags: ['claude', 'gpu'] }),
        machine('nogpu'),
        machine('full', { capabilityTags: ['claude', 'gpu'] }),
      ],
      new Map([['id-full', 1]]),
    );
    assert.ok('waiting' in decision);
    assert.deepEqual(
      decision.waiting.candidates.map((c) => [c.name, c.reasons]),
      [
        ['off', ['offline']],
        ['nogpu', ['missing capability gpu']],
        ['full', ['no free slot (1/1 in use)']],
      ],
    );
  });
});
