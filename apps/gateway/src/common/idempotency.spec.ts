import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { canonicalJson, idempotencyOf, joinScope, secretIdempotencyOf } from './idempotency';

describe('Idempotency-Key at the edge', () => {
  it('writes equal bodies alike whatever their key order, and leaves out undefined fields', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { y: 2, x: undefined }], c: 'é' } }),
      canonicalJson({ a: { c: 'é', d: [1, { y: 2 }] }, b: 1 }),
    );
    assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }));
    assert.equal(canonicalJson({ a: null, b: 'x' }), '{"a":null,"b":"x"}');
  });

  it('scopes the key to the caller and fingerprints the body', () => {
    const mine = idempotencyOf('admin:1', 'k', { to: 'hub', body: 'x' });
    const theirs = idempotencyOf('machine:2', 'k', { to: 'hub', body: 'x' });
    assert.notEqual(mine.idempotencyKey, theirs.idempotencyKey);
    assert.equal(mine.idempotencyFingerprint, theirs.idempotencyFingerprint);
    assert.notEqual(
      mine.idempotencyFingerprint,
      idempotencyOf('admin:1', 'k', { to: 'hub', body: 'y' }).idempotencyFingerprint,
    );
    assert.deepEqual(idempotencyOf('admin:1', undefined, {}), {});
    assert.throws(() => idempotencyOf('admin:1', 'has space', {}), /Idempotency-Key/);
  });

  it('derives a seed from the key itself, which the stored key does not reveal', () => {
    const scope = joinScope('wgl_join_x');
    const a = secretIdempotencyOf(scope, 'key-a', {});
    assert.match(a.idempotencySeed ?? '', /^[0-9a-f]{64}$/);
    assert.equal(secretIdempotencyOf(scope, 'key-a', {}).idempotencySeed, a.idempotencySeed);
    assert.notEqual(secretIdempotencyOf(scope, 'key-b', {}).idempotencySeed, a.idempotencySeed);
    assert.notEqual(secretIdempotencyOf(joinScope('wgl_join_y'), 'key-a', {}).idempotencySeed, a.idempotencySeed);
    assert.notEqual(a.idempotencySeed, a.idempotencyKey?.slice(5));
  });
});
