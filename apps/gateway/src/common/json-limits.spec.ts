import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { jsonProblem } from './json-limits';

function nested(depth: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) {
    value = i % 2 ? { a: value } : [value];
  }
  return value;
}

describe('JSON limits at the edge', () => {
  it('accepts ordinary bodies', () => {
    assert.equal(jsonProblem({ to: 'soda-yeti', body: 'héllo 👋', n: 1, list: [1, { a: null }] }), undefined);
    assert.equal(jsonProblem(nested(32)), undefined);
  });

  it('refuses nesting past the limit, without recursing itself', () => {
    assert.match(jsonProblem(nested(33)) ?? '', /nested deeper than 32 levels/);
    assert.match(jsonProblem(nested(100_000)) ?? '', /nested deeper/);
  });

  it('refuses lone surrogates and NUL characters, in values and in keys, naming where', () => {
    assert.equal(jsonProblem({ body: '\ud800' }), 'body.body is not valid Unicode (a lone surrogate)');
    assert.equal(jsonProblem({ model: 'gpt\u0000x' }), 'body.model contains a NUL character');
    assert.equal(jsonProblem({ list: ['ok', 'bad\u0000'] }), 'body.list[1] contains a NUL character');
    assert.equal(jsonProblem({ ['k\udc00']: 1 }), 'a key in body is not valid Unicode (a lone surrogate)');
  });

  it('bounds the path it reports', () => {
    const key = 'k'.repeat(500);
    assert.ok((jsonProblem({ [key]: '\u0000' }) ?? '').length < 260);
  });
});
