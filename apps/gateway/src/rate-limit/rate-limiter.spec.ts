import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { NatsConnection } from 'nats';
import { Registry } from 'prom-client';

import { createLogger } from '@waggle/observability';

import { GatewayConfig } from '../gateway.config';
import { RateLimiter } from './rate-limiter';

/** A limiter that never reaches NATS (not bootstrapped): what one replica decides on its own. */
function limiter(): RateLimiter {
  return new RateLimiter(
    new GatewayConfig(),
    {} as NatsConnection,
    createLogger('gateway', 'silent', false),
    new Registry(),
  );
}

describe('RateLimiter (one replica)', () => {
  it('admits up to the limit, then refuses until the window ends', () => {
    const l = limiter();
    const decisions = Array.from({ length: 4 }, () => l.hit('requests', 'admin:1', 3));
    assert.deepEqual(
      decisions.map((d) => [d.allowed, d.remaining]),
      [
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ],
    );
    const reset = decisions[3]?.resetSeconds ?? 0;
    assert.ok(reset >= 1 && reset <= 60, String(reset));
  });

  it('counts each policy and subject apart; peek counts nothing; 0 is no limit', () => {
    const l = limiter();
    assert.equal(l.hit('requests', 'a', 1).allowed, true);
    assert.equal(l.hit('requests', 'b', 1).allowed, true);
    assert.equal(l.hit('auth-failures-address', 'a', 1).allowed, true);
    assert.equal(l.peek('joins-token', 'a', 1).allowed, true);
    assert.equal(l.peek('joins-token', 'a', 1).allowed, true);
    assert.equal(l.hit('requests', 'a', 1).allowed, false);
    assert.equal(l.peek('requests', 'a', 1).allowed, false);
    for (let i = 0; i < 100; i++) {
      assert.equal(l.hit('requests', 'unlimited', 0).allowed, true);
    }
  });
});
