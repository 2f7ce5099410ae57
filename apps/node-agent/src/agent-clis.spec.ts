import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Capabilities } from '@waggle/contracts';

import { agentCommand, DEFAULT_CLI_COMMANDS, parseCliCommand } from './agent-clis';

const caps = (agents: Capabilities['agents']): Capabilities => ({
  os: 'linux',
  arch: 'x64',
  hostname: 'h',
  cpus: 1,
  memoryMb: 1,
  agents,
  tools: [],
  gpus: [],
  labels: [],
});

describe('agent CLI commands', () => {
  it('passes the prompt as one argument, whatever it contains', () => {
    const prompt = 'fix it"; rm -rf / #  $(whoami)';
    assert.deepEqual(agentCommand({ prompt }, caps([{ name: 'claude', version: '1' }]), DEFAULT_CLI_COMMANDS), [
      'claude',
      '-p',
      prompt,
    ]);
  });

  it('picks the named CLI or the first installed, and ollama with its model', () => {
    const both = caps([
      { name: 'codex', version: '1' },
      { name: 'ollama', version: '1', models: ['llama3'] },
    ]);
    assert.deepEqual(agentCommand({ prompt: 'p' }, both, DEFAULT_CLI_COMMANDS), ['codex', 'exec', 'p']);
    assert.deepEqual(agentCommand({ prompt: 'p', cli: 'ollama' }, both, DEFAULT_CLI_COMMANDS), [
      'ollama',
      'run',
      'llama3',
      'p',
    ]);
    assert.throws(() => agentCommand({ prompt: 'p', cli: 'gemini' }, both, DEFAULT_CLI_COMMANDS), /not installed/);
  });

  it('reads an override as a JSON array and refuses anything else', () => {
    assert.deepEqual(parseCliCommand('claude', '["claude","-p","{prompt}","--output-format","json"]'), [
      'claude',
      '-p',
      '{prompt}',
      '--output-format',
      'json',
    ]);
    assert.throws(() => parseCliCommand('claude', 'claude -p {prompt}'), /JSON array/);
  });
});
