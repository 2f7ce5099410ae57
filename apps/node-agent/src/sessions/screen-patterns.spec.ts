import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { loadPatterns, readScreen } from './screen-patterns';

describe('screen patterns', () => {
  it("reads Claude Code's screens: a question, work, the prompt", async () => {
    const { claude } = await loadPatterns();
    assert.equal(readScreen('Bash command: rm x\nDo you want to proceed?\n❯ 1. Yes\n  2. No\n', claude), 'needs_input');
    assert.equal(readScreen('> fix it\n✻ Thinking… (3s · esc to interrupt)\n', claude), 'busy');
    assert.equal(readScreen('● Done\n\n╭────╮\n│ >  │\n╰────╯\n  ? for shortcuts\n', claude), 'prompt');
    assert.equal(readScreen('> fix it\nreading files\n', claude), undefined);
  });

  it('finds a shell prompt only at the end of the screen', async () => {
    const { shell } = await loadPatterns();
    assert.equal(readScreen('user@host:~$ \n', shell), 'prompt');
    assert.equal(readScreen('$ make\ncompiling 1\ncompiling 2\n', shell), undefined);
    assert.equal(readScreen('Overwrite? (y/n) \n', shell), 'needs_input');
  });

  it('takes patterns from a file over the defaults and refuses an unknown CLI', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'patterns-'));
    const file = join(dir, 'p.json');
    await writeFile(file, JSON.stringify({ other: { prompt: ['READY>$'], needsInput: ['Continue\\?'] } }));
    const { other, claude } = await loadPatterns(file);
    assert.equal(readScreen('booting\nREADY>\n', other), 'prompt');
    assert.equal(readScreen('Continue?\n', other), 'needs_input');
    assert.equal(claude.busy.length > 0, true, 'defaults kept for the others');
    await writeFile(file, JSON.stringify({ vim: {} }));
    await assert.rejects(loadPatterns(file), /unknown CLI vim/);
    await writeFile(file, JSON.stringify({ other: { prompt: ['('] } }));
    await assert.rejects(loadPatterns(file), /session patterns for other/);
  });
});
