import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import type { WaggleEvent } from '@waggle/contracts';
import type { AgentProcess } from '@waggle/testing';
import { eventually, TestHub } from '@waggle/testing';

function open(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ ws: WebSocket; events: WaggleEvent[]; closed: Promise<number> }> {
  const ws = new WebSocket(url, { headers });
  const events: WaggleEvent[] = [];
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('message', (raw: Buffer) => {
    const msg = JSON.parse(raw.toString('utf8')) as { type: string; event?: WaggleEvent };
    if (msg.type === 'event' && msg.event) {
      events.push(msg.event);
    }
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, events, closed }));
    ws.once('error', reject);
  });
}

describe('/ws pushes what happens to authenticated clients', () => {
  let hub: TestHub;
  let agent: AgentProcess;

  before(async () => {
    hub = await TestHub.start();
    agent = await hub.startAgent('soda-yeti');
  });
  after(() => hub.stop());

  it('closes a connection that does not authenticate', async () => {
    const { ws, closed } = await open(`${hub.url.replace('http', 'ws')}/ws`);
    ws.send(JSON.stringify({ type: 'auth', token: 'wgl_adm_wrong' }));
    assert.equal(await closed, 4401);
  });

  it('streams heartbeats, offline/online and message delivered/read events', async () => {
    const { ws, events } = await open(`${hub.url.replace('http', 'ws')}/ws`, {
      authorization: `Bearer ${hub.adminToken}`,
    });
    try {
      await eventually(
        () =>
          assert.ok(
            events.some((e) => e.type === 'machine.heartbeat' && !!(e.data as { machineId?: string }).machineId),
          ),
        {
          what: 'heartbeat event',
        },
      );
      const sent = await hub.api<{ id: string }>('POST', '/api/messages', { to: 'soda-yeti', body: 'watch me' });
      await eventually(
        () =>
          assert.ok(
            events.some(
              (e) => e.type === 'message.delivered' && (e.data as { messageId: string }).messageId === sent.body.id,
            ),
          ),
        {
          what: 'delivered event',
        },
      );
      await agent.inbox.markRead([sent.body.id]);
      await eventually(
        () =>
          assert.ok(
            events.some(
              (e) => e.type === 'message.read' && (e.data as { messageId: string }).messageId === sent.body.id,
            ),
          ),
        {
          what: 'read event',
        },
      );
      await agent.kill('SIGKILL');
      await eventually(() => assert.ok(events.some((e) => e.type === 'machine.offline')), { what: 'offline event' });
      agent.start();
      await eventually(() => assert.ok(events.some((e) => e.type === 'machine.online')), { what: 'online event' });
    } finally {
      ws.close();
    }
  });
});
