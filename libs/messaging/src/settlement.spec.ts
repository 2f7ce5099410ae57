import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ErrorCode, WaggleError } from '@waggle/contracts';

import { backoffMs, settle } from './settlement';

describe('settle', () => {
  it('acks a success', () => {
    assert.deepEqual(settle({ deliveryCount: 1, maxDeliver: 5 }), { action: 'ack' });
  });

  it('terminates and dead-letters an invalid payload at once', () => {
    const s = settle({ error: WaggleError.invalid('bad'), deliveryCount: 1, maxDeliver: 5 });
    assert.equal(s.action, 'term');
    assert.ok(s.action === 'term' && s.deadLetter);
  });

  it('naks a transient error with growing backoff', () => {
    const first = settle({ error: new Error('db down'), deliveryCount: 1, maxDeliver: 5 });
    const third = settle({ error: new WaggleError(ErrorCode.Unavailable, 'x'), deliveryCount: 3, maxDeliver: 5 });
    assert.deepEqual(first, { action: 'nak', delayMs: 1000 });
    assert.deepEqual(third, { action: 'nak', delayMs: 4000 });
  });

  it('dead-letters on the last delivery instead of dropping', () => {
    const s = settle({ error: new Error('still down'), deliveryCount: 5, maxDeliver: 5 });
    assert.equal(s.action, 'term');
  });

  it('keeps retrying when deliveries are unlimited', () => {
    assert.equal(settle({ error: new Error('x'), deliveryCount: 1000, maxDeliver: -1 }).action, 'nak');
    assert.equal(backoffMs(50), 60_000);
  });
});
