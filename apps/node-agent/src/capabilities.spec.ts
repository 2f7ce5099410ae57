import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { capabilityTags } from '@waggle/contracts';

import { detectCapabilities, parseNvidiaSmi, parseOllamaList, versionOf } from './capabilities';

describe('capability detection', () => {
  it('reads versions from typical --version outputs', () => {
    assert.equal(versionOf('git version 2.39.5'), '2.39.5');
    assert.equal(versionOf('tmux 3.3a'), '3.3a');
    assert.equal(versionOf('1.0.17 (Claude Code)'), '1.0.17');
    assert.equal(versionOf('ollama version is 0.5.7'), '0.5.7');
  });

  it('lists ollama models without the :latest tag', () => {
    const out =
      'NAME              ID           SIZE    MODIFIED\nllama3:latest     365c0bd3c000 4.7 GB  2 days ago\nqwen2.5-coder:7b  2b0496514337 4.7 GB  3 weeks ago\n';
    assert.deepEqual(parseOllamaList(out), ['llama3', 'qwen2.5-coder:7b']);
  });

  it('parses nvidia-smi csv', () => {
    assert.deepEqual(parseNvidiaSmi('NVIDIA GeForce RTX 4090, 24564, 3\n'), [
      { name: 'NVIDIA GeForce RTX 4090', memoryMb: 24564, utilizationPercent: 3 },
    ]);
  });

  it('detects this machine: git is installed here, labels carried, tags derived', async () => {
    const caps = await detectCapabilities(['room=ci']);
    assert.ok(
      caps.tools.some((t) => t.name === 'git'),
      'git should be detected',
    );
    assert.deepEqual(caps.labels, ['room=ci']);
    const tags = capabilityTags({
      ...caps,
      agents: [{ name: 'ollama', version: '0.5.7', models: ['llama3'] }],
      gpus: [{ name: 'x' }],
    });
    for (const tag of ['git', 'ollama', 'ollama:llama3', 'gpu', `os:${caps.os}`]) {
      assert.ok(tags.includes(tag), tag);
    }
  });
});
