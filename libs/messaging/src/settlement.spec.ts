import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { JsMsg } from 'nats';

import { ErrorCode, WaggleError } from '@waggle/contracts';

import { backoffMs, claimOutcomeOf, ClaimSettlement, settle, settleClaim } from './settlement';

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

/** A JetStream message that records how it was settled. */
function fakeMsg(deliveryCount: number) {
  const calls: string[] = [];
  const msg = {
    info: { redeliveryCount: deliveryCount },
    ack: () => calls.push('ack'),
    nak: (delayMs?: number) => calls.push(`nak ${delayMs}`),
    term: (reason?: string) => calls.push(reason === undefined ? 'term' : `term ${reason}`),
  };
  return { msg: msg as unknown as JsMsg, calls };
}

describe('settleClaim (claim-then-ack)', () => {
  it('acks once the claim is recorded', () => {
    const { msg, calls } = fakeMsg(1);
    assert.deepEqual(settleClaim(msg, ClaimSettlement.Claimed), { action: 'ack' });
    assert.deepEqual(calls, ['ack']);
  });

  it('terms a stale assignment and an invalid payload, without dead-letter and without a reason on the wire', () => {
    for (const outcome of [ClaimSettlement.Stale, ClaimSettlement.Invalid]) {
      const { msg, calls } = fakeMsg(1);
      const s = settleClaim(msg, outcome);
      assert.equal(s.action, 'term');
      assert.ok(s.action === 'term' && !s.deadLetter && s.reason);
      // nats-server 2.9 redelivers a "+TERM <reason>".
      assert.deepEqual(calls, ['term']);
    }
  });

  it('naks with growing backoff while the hub is unreachable, for as long as it takes', () => {
    const first = fakeMsg(1);
    const later = fakeMsg(4);
    settleClaim(first.msg, ClaimSettlement.Unreachable);
    settleClaim(later.msg, ClaimSettlement.Unreachable);
    assert.deepEqual(first.calls, ['nak 1000']);
    assert.deepEqual(later.calls, ['nak 8000']);
    assert.deepEqual(settleClaim(fakeMsg(1000).msg, ClaimSettlement.Unreachable), { action: 'nak', delayMs: 60_000 });
  });

  it('calls a refused claim stale and anything else unreachable', () => {
    assert.equal(
      claimOutcomeOf(new WaggleError(ErrorCode.Conflict, 'attempt 1 is not current')),
      ClaimSettlement.Stale,
    );
    assert.equal(claimOutcomeOf(new WaggleError(ErrorCode.Unavailable, 'no responders')), ClaimSettlement.Unreachable);
    assert.equal(claimOutcomeOf(new Error('TIMEOUT')), ClaimSettlement.Unreachable);
  });
});
