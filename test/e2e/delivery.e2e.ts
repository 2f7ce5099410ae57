import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { MessageView, Page } from '@waggle/contracts';
import type { AgentProcess } from '@waggle/testing';
import { eventually, TestHub } from '@waggle/testing';

/**
 * The fleet's promise: a machine that was off gets everything it missed, in order, none
 * twice — also when every hub process was restarted meanwhile.
 */
describe('delivery to a machine that was off', () => {
  let hub: TestHub;
  let away: AgentProcess;
  let present: AgentProcess;

  before(async () => {
    hub = await TestHub.start();
    away = await hub.startAgent('soda-yeti');
    present = await hub.startAgent('mint-otter');
  });
  after(() => hub.stop());

  it('delivers 1,000 direct messages and a broadcast after SIGKILL and hub restarts, in order, none twice', async () => {
    await away.kill('SIGKILL');
    const sent: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const res = await hub.api<MessageView>('POST', '/api/messages', { to: 'soda-yeti', body: `direct ${i}` });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      sent.push(res.body.id);
    }
    const broadcast = await hub.api<MessageView>('POST', '/api/messages', { to: 'all', body: 'to everyone' });
    assert.equal(broadcast.status, 201);
    assert.deepEqual(broadcast.body.recipients.map((r) => r.name).sort(), ['mint-otter', 'soda-yeti']);
    sent.push(broadcast.body.id);

    // The machine that stayed gets the broadcast while the other is away.
    await eventually(async () => assert.ok((await present.messages()).some((m) => m.body === 'to everyone')), {
      what: 'broadcast on mint-otter',
    });

    await hub.registry.restart();
    await hub.gateway.restart();
    await hub.waitReady();

    away.start();
    const received = await eventually(
      async () => {
        const messages = await away.messages();
        assert.equal(messages.length, 1001, `has ${messages.length}`);
        return messages;
      },
      { timeoutMs: 60_000, what: '1,001 messages on soda-yeti' },
    );
    assert.deepEqual(
      received.map((m) => m.id),
      sent,
      'every message, in the order sent',
    );
    assert.equal(new Set(received.map((m) => m.id)).size, 1001, 'none twice');
    assert.equal(received[0]?.body, 'direct 0');
    assert.equal(received[999]?.body, 'direct 999');
    assert.equal(received[1000]?.body, 'to everyone');

    // Delivery state reaches the hub for every recipient.
    await eventually(
      async () => {
        const page = await hub.api<Page<MessageView>>('GET', '/api/messages?machine=soda-yeti&limit=500');
        assert.equal(page.status, 200);
        const states = page.body.items.flatMap((m) =>
          m.recipients.filter((r) => r.name === 'soda-yeti').map((r) => r.state),
        );
        assert.ok(
          states.length === 500 && states.every((s) => s === 'delivered'),
          `states: ${[...new Set(states)].join(',')}`,
        );
      },
      { timeoutMs: 30_000, what: 'delivered states' },
    );
  });

  it('keeps history across a restart of every process, paginated without gaps', async () => {
    await hub.registry.restart('SIGKILL');
    await hub.gateway.restart('SIGKILL');
    await hub.waitReady();
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await hub.api<Page<MessageView>>(
        'GET',
        `/api/messages?limit=300${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(res.status, 200);
      ids.push(...res.body.items.map((m) => m.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    assert.equal(ids.length, 1001);
    assert.equal(new Set(ids).size, 1001);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => Number(b) - Number(a)),
      'newest first',
    );
  });

  it('marks messages read when the machine reads them, and the hub records it', async () => {
    const res = await hub.api<MessageView>('POST', '/api/messages', { to: 'mint-otter', body: 'please read me' });
    await eventually(async () => assert.ok((await present.messages()).some((m) => m.id === res.body.id)));
    await present.inbox.markRead([res.body.id]);
    await eventually(
      async () => {
        const page = await hub.api<Page<MessageView>>('GET', '/api/messages?machine=mint-otter&limit=1');
        const recipient = page.body.items[0]?.recipients[0];
        assert.ok(recipient, 'the message has its recipient');
        assert.equal(recipient.state, 'read');
        assert.ok(recipient.readAt);
      },
      { what: 'read state' },
    );
  });
});
