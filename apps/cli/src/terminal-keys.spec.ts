import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { toSends } from './terminal-keys';

describe('toSends', () => {
  it('types text and presses Enter for a carriage return', () => {
    assert.deepEqual(toSends('ls -la\r'), [{ text: 'ls -la', keys: ['Enter'] }]);
  });

  it('names control characters, arrows and Alt the way tmux does', () => {
    assert.deepEqual(toSends('\x03\x1b[A\x1b[3~\x7f\x1bx\x1b'), [
      { keys: ['C-c', 'Up', 'DC', 'BSpace', 'M-x', 'Escape'] },
    ]);
  });

  it('starts a new send when text follows keys, so the order typed is kept', () => {
    assert.deepEqual(toSends('y\rn\r'), [
      { text: 'y', keys: ['Enter'] },
      { text: 'n', keys: ['Enter'] },
    ]);
  });

  it('leaves out escape sequences tmux has no name for', () => {
    assert.deepEqual(toSends('a\x1b[200~b'), [{ text: 'ab' }]);
  });

  it('splits long runs at the API limits', () => {
    const sends = toSends('\x03'.repeat(70));
    assert.deepEqual(
      sends.map((s) => s.keys?.length),
      [64, 6],
    );
  });
});
