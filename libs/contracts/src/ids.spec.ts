import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { idPrefixRange, isIdRef, oneMatch } from './ids';

describe('id prefixes', () => {
  it('stand for the range of UUIDs that start with them, dashes given or not', () => {
    assert.deepEqual(idPrefixRange('5c3a2fdc'), {
      lo: '5c3a2fdc-0000-0000-0000-000000000000',
      hi: '5c3a2fdc-ffff-ffff-ffff-ffffffffffff',
    });
    assert.deepEqual(idPrefixRange('5C3A2FDC-9a'), idPrefixRange('5c3a2fdc9a'));
    assert.equal(idPrefixRange('5c3a2fdc9a')?.lo, '5c3a2fdc-9a00-0000-0000-000000000000');
  });

  it('are refused when they could not start a UUID', () => {
    for (const bad of ['', 'xyz', '5c3a-2fdc', '-5c3a', '5c3a2fdc--', 'soda-yeti', `${'a'.repeat(36)}`]) {
      assert.equal(idPrefixRange(bad), undefined, bad);
      assert.equal(isIdRef(bad), false, bad);
    }
    assert.equal(isIdRef('5c3a2fdc-9a00-4000-8000-000000000000'), true);
  });

  it('name the one match, or every match when they are ambiguous', () => {
    assert.equal(oneMatch('task', '5c', ['5c00']), '5c00');
    assert.throws(() => oneMatch('task', '5c', []), /task "5c" not found/);
    assert.throws(() => oneMatch('task', '5c', ['5c00', '5c01']), /matches more than one task: 5c00, 5c01/);
  });
});
