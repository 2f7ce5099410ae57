import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { TestHub } from '@waggle/testing';

interface Socket {
  ws: WebSocket;
  closed: Promise<number>;
  ready: Promise<void>;
}

/** Opens /ws and resolves once the upgrade is done; `ready` settles when the gateway says the socket is admitted. */
function open(url: string): Promise<Socket> {
  const ws = new WebSocket(url);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const ready = new Promise<void>((resolve) =>
    ws.on('message', (raw: Buffer) => {
      if ((JSON.parse(raw.toString('utf8')) as { type?: string }).type === 'ready') {
        resolve();
      }
    }),
  );
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, closed, ready }));
    ws.once('error', reject);
  });
}

/** What an unauthenticated client can cost the gateway: a small frame, a short wait, a few sockets. */
describe('/ws limits what an unauthenticated client can hold', () => {
  let hub: TestHub;
  let url: string;

  before(async () => {
    hub = await TestHub.start({ taskRouters: 0 });
    url = `${hub.url.replace('http', 'ws')}/ws`;
  });

  after(() => hub.stop());

  it('closes a socket whose first frame is large, before it is buffered whole', async () => {
    const socket = await open(url);
    socket.ws.send(Buffer.alloc(1024 * 1024, 0x61));
    assert.equal(await socket.closed, 1009);
  });

  it('closes a socket that never authenticates, within seconds', async () => {
    const socket = await open(url);
    const started = Date.now();
    assert.equal(await socket.closed, 4401);
    assert.ok(Date.now() - started < 8_000, `closed after ${Date.now() - started} ms`);
  });

  it('holds at most 20 unauthenticated sockets per address, and admits again once they are gone', async () => {
    const waiting = await Promise.all(Array.from({ length: 20 }, () => open(url)));
    const refused = await open(url);
    assert.equal(await refused.closed, 4429);
    for (const socket of waiting) {
      socket.ws.close();
    }
    await Promise.all(waiting.map((s) => s.closed));
    const admitted = await open(url);
    admitted.ws.send(JSON.stringify({ type: 'auth', token: hub.adminToken }));
    await admitted.ready;
    // Once admitted, a socket no longer counts against its address, and large frames are still refused.
    admitted.ws.send(Buffer.alloc(64 * 1024, 0x61));
    assert.equal(await admitted.closed, 1009);
  });
});
