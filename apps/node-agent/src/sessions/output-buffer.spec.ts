import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { OutputBuffer } from './output-buffer';

describe('OutputBuffer', () => {
  it('hands out what it holds in pieces no larger than a chunk, in order', () => {
    const buffer = new OutputBuffer(100, 4);
    buffer.take('abcdef');
    buffer.take('gh');
    assert.deepEqual(buffer.drain(), [
      { data: 'abcd', dropped: 0 },
      { data: 'efgh', dropped: 0 },
    ]);
    assert.deepEqual(buffer.drain(), []);
  });

  it('drops the oldest beyond its size and says how much, once', () => {
    const buffer = new OutputBuffer(5, 10);
    buffer.take('abc');
    buffer.take('defg');
    buffer.take('hi');
    assert.equal(buffer.size, 5);
    assert.deepEqual(buffer.drain(), [{ data: 'efghi', dropped: 4 }]);
    buffer.take('j');
    assert.deepEqual(buffer.drain(), [{ data: 'j', dropped: 0 }]);
  });

  it('keeps the end of one piece larger than the whole buffer', () => {
    const buffer = new OutputBuffer(3, 10);
    buffer.take('0123456789');
    assert.deepEqual(buffer.drain(), [{ data: '789', dropped: 7 }]);
  });
});
