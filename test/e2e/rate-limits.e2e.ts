import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';

import type { ErrorBody, JoinResponse } from '@waggle/contracts';
import { newMachineKey } from '@waggle/credentials';
import { eventually, present, rateWindowWithRoom, TestHub } from '@waggle/testing';

const LIMIT = 120;
const FAILURES = 3;
const JOINS = 8;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: ErrorBody;
}

/**
 * A request from a chosen loopback address (127.0.0.0/8 is all loopback on Linux), so a test
 * can be several clients at once.
 */
function from(
  address: string,
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<Answer> {
  const url = new URL(path, base);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        localAddress: address,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text || '{}') as ErrorBody }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** `RateLimit: "requests";r=<remaining>;t=<seconds>` → remaining. */
const remaining = (answer: Answer) => Number(/;r=(\d+)/.exec(String(answer.headers.ratelimit))?.[1]);

/**
 * Limits per credential on every request, per address and per credential on failed
 * authentications and joins, answered 429 with Retry-After, and counted across gateway
 * replicas (through NATS KV, without a database write per request).
 */
describe('rate limits', () => {
  let hub: TestHub;
  let second: string;

  before(async () => {
    hub = await TestHub.start({
      env: {
        WAGGLE_RATE_LIMIT_PER_MINUTE: String(LIMIT),
        WAGGLE_AUTH_FAILURES_PER_MINUTE: String(FAILURES),
        WAGGLE_JOINS_PER_MINUTE: String(JOINS),
      },
    });
    second = (await hub.startGateway()).url;
  });
  after(() => hub.stop());

  /** A machine credential of its own (joined through the API; no agent needed). */
  const credential = async (name: string) => {
    const joined = await hub.api<JoinResponse>(
      'POST',
      '/api/machines/join',
      { joinToken: await hub.joinToken(), name, natsPublicKey: newMachineKey().publicKey },
      null,
    );
    assert.equal(joined.status, 201, JSON.stringify(joined.body));
    return joined.body;
  };

  it('limits the requests of one credential: RateLimit headers, then 429 with Retry-After', async () => {
    const { apiToken } = await credential('busy');
    await rateWindowWithRoom();
    const answers: Answer[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      answers.push(await from('127.0.0.1', hub.url, 'GET', '/api/machines?limit=1', { token: apiToken }));
    }
    const first = present(answers[0], 'first answer');
    assert.equal(first.headers['ratelimit-policy'], `"requests";q=${LIMIT};w=60`);
    assert.match(String(first.headers.ratelimit), new RegExp(`^"requests";r=${LIMIT - 1};t=\\d+$`));
    assert.deepEqual(
      answers.map((a) => a.status),
      [...Array<number>(LIMIT).fill(200), 429],
    );
    const refused = present(answers.at(-1), 'the refusal');
    assert.equal(refused.body.code, 'RATE_LIMITED');
    assert.match(refused.body.message, /too many requests with this credential/);
    const wait = Number(refused.headers['retry-after']);
    assert.ok(wait >= 1 && wait <= 60, `Retry-After: ${String(refused.headers['retry-after'])}`);
    assert.match(String(refused.headers.ratelimit), /;r=0;/);
    // Another credential, from the same address, has its own count.
    assert.equal((await hub.api('GET', '/api/machines?limit=1')).status, 200);
  });

  it('counts a credential across gateway replicas', async () => {
    const { apiToken } = await credential('spread');
    await rateWindowWithRoom();
    const onFirst = LIMIT - 40;
    for (let i = 0; i < onFirst; i++) {
      assert.equal((await from('127.0.0.1', hub.url, 'GET', '/api/machines?limit=1', { token: apiToken })).status, 200);
    }
    // The second replica learns the first one's count (its own would leave LIMIT - 1).
    let onSecond = 0;
    await eventually(
      async () => {
        const answer = await from('127.0.0.1', second, 'GET', '/api/machines?limit=1', { token: apiToken });
        assert.equal(answer.status, 200);
        onSecond++;
        assert.ok(remaining(answer) < 40, `remaining ${remaining(answer)}`);
      },
      { intervalMs: 50, what: "the second replica to see the first one's count" },
    );
    // Both together admit no more than the limit (give or take one flush interval).
    let admitted = onFirst + onSecond;
    for (;;) {
      const answer = await from('127.0.0.1', second, 'GET', '/api/machines?limit=1', { token: apiToken });
      if (answer.status === 429) {
        break;
      }
      assert.equal(answer.status, 200);
      admitted++;
      assert.ok(admitted <= LIMIT + 5, `admitted ${admitted}`);
    }
    assert.ok(admitted >= LIMIT - 5, `admitted ${admitted}`);
    // And the first replica hears of the second's share.
    await eventually(async () => {
      const answer = await from('127.0.0.1', hub.url, 'GET', '/api/machines?limit=1', { token: apiToken });
      assert.equal(answer.status, 429);
    });
  });

  it('limits failures per credential whatever the address: a revoked machine retrying is refused before any lookup', async () => {
    const zombie = await credential('zombie');
    assert.equal((await hub.api('DELETE', '/api/machines/zombie')).status, 200);
    await rateWindowWithRoom();
    const answers: Answer[] = [];
    for (let i = 0; i < FAILURES + 3; i++) {
      // A new address each time: no address reaches its own limit.
      answers.push(await from(`127.0.1.${i + 1}`, hub.url, 'GET', '/api/machines', { token: zombie.apiToken }));
    }
    assert.deepEqual(
      answers.map((a) => a.status),
      [...Array<number>(FAILURES).fill(401), 429, 429, 429],
    );
    const refused = present(answers.at(-1), 'the refusal');
    assert.match(refused.body.message, /credential failed too often/);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
  });

  it('limits joins per join token and per address, and failed joins per join token', async () => {
    await rateWindowWithRoom();
    // One join token with many uses, from many addresses: JOINS joins, then 429.
    const shared = await hub.joinToken(100);
    const joins: number[] = [];
    for (let i = 0; i < JOINS + 1; i++) {
      const answer = await from(`127.0.2.${i + 1}`, hub.url, 'POST', '/api/machines/join', {
        body: { joinToken: shared, name: `fleet-${i}`, natsPublicKey: newMachineKey().publicKey },
      });
      joins.push(answer.status);
    }
    assert.deepEqual(joins, [...Array<number>(JOINS).fill(201), 429]);

    // Many join tokens from one address: the same.
    const fromOne: Answer[] = [];
    for (let i = 0; i < JOINS + 1; i++) {
      fromOne.push(
        await from('127.0.3.1', hub.url, 'POST', '/api/machines/join', {
          body: { joinToken: await hub.joinToken(), name: `desk-${i}`, natsPublicKey: newMachineKey().publicKey },
        }),
      );
    }
    assert.deepEqual(
      fromOne.map((a) => a.status),
      [...Array<number>(JOINS).fill(201), 429],
    );
    assert.match(present(fromOne.at(-1), 'the refusal').body.message, /too many joins from this address/);

    // A spent join token tried from everywhere: FAILURES refusals, then 429 before the registry is asked.
    const spent = await hub.joinToken(1);
    const tries: number[] = [];
    for (let i = 0; i < FAILURES + 2; i++) {
      const answer = await from(`127.0.4.${i + 1}`, hub.url, 'POST', '/api/machines/join', {
        body: { joinToken: spent, name: `late-${i}`, natsPublicKey: newMachineKey().publicKey },
      });
      tries.push(answer.status);
    }
    assert.deepEqual(tries, [201, ...Array<number>(FAILURES).fill(401), 429]);
  });
});
