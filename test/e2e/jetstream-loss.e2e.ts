import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { NatsConnection } from 'nats';

import type { MessageView, TaskView } from '@waggle/contracts';
import { Streams } from '@waggle/contracts';
import { findNatsServer, freePort } from '@waggle/local-infra';
import { connectNats, StreamKeeper } from '@waggle/messaging';
import { createLogger } from '@waggle/observability';
import type { AgentProcess } from '@waggle/testing';
import { eventually, TestHub } from '@waggle/testing';

const node = process.execPath;

/**
 * JetStream loses its whole store (nats-server killed, its directory deleted, started
 * again). No hub service is restarted: they provision the streams and consumers again by
 * themselves, re-send what Postgres says was acknowledged but JetStream no longer holds, and
 * every acknowledged message and task arrives, in order, within seconds.
 */
describe('JetStream store lost', () => {
  let hub: TestHub;
  let here: AgentProcess;
  let away: AgentProcess;
  let nc: NatsConnection | undefined;

  before(async () => {
    hub = await TestHub.start();
    here = await hub.startAgent('here-lynx', { allowCommand: true, slots: 2 });
    away = await hub.startAgent('away-otter', { allowCommand: true });
    await away.kill('SIGKILL');
  });
  after(async () => {
    await nc?.close();
    await hub.stop();
  });

  const send = async (to: string, body: string) => {
    const res = await hub.api<MessageView>('POST', '/api/messages', { to, body });
    assert.equal(res.status, 201, `send to ${to}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id;
  };
  const create = async (target: string, title: string) => {
    const res = await hub.api<TaskView>('POST', '/api/tasks', {
      title,
      kind: 'command',
      input: { program: node, args: ['-e', 'process.stdout.write("ok")'] },
      target,
    });
    assert.equal(res.status, 201, `create for ${target}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id;
  };
  const finished = (id: string) =>
    eventually(
      async () => {
        const res = await hub.api<TaskView>('GET', `/api/tasks/${id}`);
        assert.ok(['succeeded', 'failed', 'cancelled', 'timed_out'].includes(res.body.state), res.body.state);
        return res.body;
      },
      { timeoutMs: 30_000, what: `task ${id} finished` },
    );
  const streamMessages = async (name: string) => {
    nc ??= await connectNats({ servers: hub.nats.url, name: 'test', creds: hub.nats.material.hubCreds });
    const jsm = await nc.jetstreamManager();
    return (await jsm.streams.info(name)).state.messages;
  };

  it('re-provisions, re-sends and delivers everything acknowledged, without restarting a service', async () => {
    const toAway: string[] = [];
    const tasksAway: string[] = [];
    for (let i = 0; i < 10; i++) {
      toAway.push(await send('away-otter', `before ${i}`));
    }
    for (let i = 0; i < 3; i++) {
      tasksAway.push(await create('away-otter', `away before ${i}`));
    }
    // Everything above is in JetStream (relayed from the outboxes) before the store goes.
    await eventually(async () => {
      assert.ok((await streamMessages(Streams.messages.name)) >= 10);
      assert.ok((await streamMessages(Streams.tasks.name)) >= 3);
    });
    await nc?.close();
    nc = undefined;

    await hub.nats.stop('SIGKILL');
    await rm(hub.nats.storeDir, { recursive: true, force: true });
    await hub.nats.start();

    // The first send may still meet a service that has not reconnected: then it is refused, not lost.
    await eventually(async () => toAway.push(await send('away-otter', 'after 0')), {
      timeoutMs: 20_000,
      what: 'hub accepting messages again',
    });
    const tasksHere = [
      await eventually(() => create('here-lynx', 'here after 0'), {
        timeoutMs: 20_000,
        what: 'hub accepting tasks again',
      }),
    ];
    const toHere: string[] = [];
    for (let i = 0; i < 10; i++) {
      toHere.push(await send('here-lynx', `after ${i}`));
      toAway.push(await send('away-otter', `after ${i + 1}`));
    }
    tasksHere.push(await create('here-lynx', 'here after 1'));
    tasksAway.push(await create('away-otter', 'away after 0'));

    // The machine that stayed online gets what was sent after the loss, and runs its tasks.
    await eventually(
      async () =>
        assert.deepEqual(
          (await here.messages()).filter((m) => m.body.startsWith('after')).map((m) => m.id),
          toHere,
        ),
      { timeoutMs: 20_000, what: 'here-lynx inbox' },
    );
    for (const id of tasksHere) {
      assert.equal((await finished(id)).state, 'succeeded');
    }

    // The machine that was off comes back to everything, from before the loss and after, in order.
    away.start();
    await eventually(
      async () =>
        assert.deepEqual(
          (await away.messages()).map((m) => m.id),
          toAway,
        ),
      {
        timeoutMs: 30_000,
        what: 'away-otter inbox',
      },
    );
    for (const id of tasksAway) {
      const task = await finished(id);
      assert.equal(task.state, 'succeeded', `${task.title}: ${task.state}`);
      assert.equal(task.attempt, 1, `${task.title} ran once`);
    }

    // The services say they are ready again, JetStream included.
    for (const base of [
      hub.url,
      hub.metricsUrls.find((m) => m.service === 'registry')!.url.replace(/\/metrics$/, ''),
    ]) {
      const ready = await fetch(`${base}/ready`);
      assert.equal(ready.status, 200, base);
      assert.equal(((await ready.json()) as { checks: { jetstream: boolean } }).checks.jetstream, true);
    }
  });
});

/** A service that cannot publish says so: /ready's `jetstream` check is what StreamKeeper saw. */
describe('StreamKeeper', () => {
  let server: ChildProcess | undefined;
  let keeperNc: NatsConnection | undefined;
  const dir = join(tmpdir(), `waggle-keeper-${process.pid}`);

  after(async () => {
    await keeperNc?.close();
    await stopServer();
    await rm(dir, { recursive: true, force: true });
  });

  const startServer = (port: number, jetstream: boolean) => {
    const args = ['-a', '127.0.0.1', '-p', String(port), ...(jetstream ? ['-js', '-sd', dir] : [])];
    server = spawn(findNatsServer()!, args, { stdio: 'ignore' });
  };
  const stopServer = async () => {
    const child = server;
    if (child && child.exitCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
  };

  it('is not ready while JetStream is off, and provisions every stream once it is on', async () => {
    const port = await freePort();
    startServer(port, false);
    keeperNc = await eventually(() =>
      connectNats({ servers: `nats://127.0.0.1:${port}`, name: 'keeper-test', failFast: true }),
    );
    const keeper = new StreamKeeper(keeperNc, {
      replicas: 1,
      logger: createLogger('test', 'silent'),
      checkIntervalMs: 200,
    });
    keeper.start();
    try {
      await keeper.kick();
      assert.equal(keeper.ready, false, 'ready with JetStream off');

      let restored = 0;
      keeper.onRestored(() => restored++);
      await stopServer();
      startServer(port, true);
      // The reconnect prompts a look; no call from here.
      await eventually(() => assert.equal(keeper.ready, true), { what: 'keeper ready' });
      assert.equal(restored, 1);
      const jsm = await keeperNc.jetstreamManager();
      const names = await jsm.streams.names().next();
      for (const stream of Object.values(Streams)) {
        assert.ok(names.includes(stream.name), `${stream.name} provisioned`);
      }

      // A stream deleted from under the keeper comes back at its next look.
      await jsm.streams.delete(Streams.tasks.name);
      await eventually(
        async () => {
          assert.ok((await jsm.streams.names().next()).includes(Streams.tasks.name));
          // Listeners hear of it once every stream has been provisioned again.
          assert.equal(restored, 2);
        },
        { what: 'tasks stream provisioned again' },
      );
    } finally {
      keeper.stop();
    }
  });
});
