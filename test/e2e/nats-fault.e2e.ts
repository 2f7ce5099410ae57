import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { MessageView } from '@waggle/contracts';
import type { AgentProcess } from '@waggle/testing';
import { eventually, TestHub } from '@waggle/testing';

/** A NATS crash loses no acknowledged message: Postgres holds it, the outbox re-sends it. */
describe('NATS killed and restarted', () => {
  let hub: TestHub;
  let agent: AgentProcess;

  before(async () => {
    hub = await TestHub.start();
    agent = await hub.startAgent('soda-yeti');
  });
  after(() => hub.stop());

  it('delivers every acknowledged message once NATS is back, and the hub serves again', async () => {
    const acknowledged: string[] = [];
    const send = async (body: string) => {
      const res = await hub.api<MessageView>('POST', '/api/messages', { to: 'soda-yeti', body });
      if (res.status === 201) {
        acknowledged.push(res.body.id);
      }
      return res.status;
    };
    for (let i = 0; i < 50; i++) {
      assert.equal(await send(`before ${i}`), 201);
    }

    await hub.nats.stop('SIGKILL');
    // While NATS is down the gateway cannot reach the registry: it answers 503/504, never a false 201.
    const during = await send('during the outage');
    assert.ok([503, 504].includes(during), `status during outage: ${during}`);

    await hub.nats.start();
    await eventually(async () => assert.equal(await send('after 0'), 201), {
      timeoutMs: 30_000,
      what: 'hub serving again',
    });
    for (let i = 1; i < 50; i++) {
      assert.equal(await send(`after ${i}`), 201);
    }

    const received = await eventually(
      async () => {
        const messages = await agent.messages();
        assert.equal(messages.length, acknowledged.length, `has ${messages.length} of ${acknowledged.length}`);
        return messages;
      },
      { timeoutMs: 60_000, what: 'all acknowledged messages' },
    );
    assert.deepEqual(
      received.map((m) => m.id),
      acknowledged,
    );
  });
});
