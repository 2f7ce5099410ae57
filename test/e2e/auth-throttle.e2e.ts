import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { ErrorBody } from '@waggle/contracts';
import { newMachineKey } from '@waggle/credentials';
import { rateWindowWithRoom, TestHub } from '@waggle/testing';

/** Guessing tokens or join tokens from one address gets 429 with Retry-After; a valid credential is never held back. */
describe('failed authentications are limited per address', () => {
  let hub: TestHub;

  before(async () => {
    hub = await TestHub.start({ env: { WAGGLE_AUTH_FAILURES_PER_MINUTE: '10' } });
  });

  after(() => hub.stop());

  const statuses = async (
    n: number,
    attempt: (i: number) => Promise<{ status: number; retryAfter: string | null; body: ErrorBody }>,
  ) => {
    const out: { status: number; retryAfter: string | null; body: ErrorBody }[] = [];
    for (let i = 0; i < n; i++) {
      out.push(await attempt(i));
    }
    return out;
  };

  it('answers 429 with Retry-After once an address has guessed too many tokens, admin or machine', async () => {
    await rateWindowWithRoom();
    const answers = await statuses(16, async (i) => {
      const token = i % 2 ? `wgl_adm_guess-${i}` : `wgl_mch_guess-${i}`;
      const res = await fetch(`${hub.url}/api/machines`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as ErrorBody };
    });
    assert.deepEqual(
      answers.map((a) => a.status),
      [...Array<number>(10).fill(401), ...Array<number>(6).fill(429)],
    );
    const limited = answers.at(-1);
    assert.equal(limited?.body.code, 'RATE_LIMITED');
    const wait = Number(limited?.retryAfter);
    assert.ok(wait >= 1 && wait <= 60, `Retry-After: ${limited?.retryAfter}`);

    // The operator's own token from the same address still works: only failures are counted.
    assert.equal((await hub.api('GET', '/api/machines')).status, 200);
  });

  it('limits guessed join tokens the same way', async () => {
    await rateWindowWithRoom();
    const answers = await statuses(14, async (i) => {
      const res = await fetch(`${hub.url}/api/machines/join`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          joinToken: `wgl_join_guess-${i}`,
          name: `guess-${i}`,
          natsPublicKey: newMachineKey().publicKey,
        }),
      });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as ErrorBody };
    });
    assert.deepEqual(
      answers.map((a) => a.status),
      [...Array<number>(10).fill(401), ...Array<number>(4).fill(429)],
    );
    assert.ok(Number(answers.at(-1)?.retryAfter) >= 1);
    // A real join token still joins.
    const joined = await hub.api(
      'POST',
      '/api/machines/join',
      { joinToken: await hub.joinToken(), name: 'honest', natsPublicKey: newMachineKey().publicKey },
      null,
    );
    assert.equal(joined.status, 201);
  });
});
