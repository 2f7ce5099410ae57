import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { connect, jwtAuthenticator } from 'nats';

import type { MachineView, Page } from '@waggle/contracts';
import { Consumers, MachineSubjects, Streams } from '@waggle/contracts';
import type { AgentProcess } from '@waggle/testing';
import { eventually, TestHub } from '@waggle/testing';

describe('the fleet: join, report, presence, revocation', () => {
  let hub: TestHub;
  let yeti: AgentProcess;
  let otter: AgentProcess;

  before(async () => {
    hub = await TestHub.start({ heartbeatIntervalMs: 300 });
    yeti = await hub.startAgent('soda-yeti', { labels: ['gpu=4090', 'room=lab'] });
    otter = await hub.startAgent('mint-otter', { labels: ['room=office'] });
  });
  after(() => hub.stop());

  it('stores its own credential and reports capabilities, metrics and labels', async () => {
    const identity = await yeti.identity();
    assert.ok(
      identity?.machineId &&
        identity.apiToken.startsWith('wgl_mch_') &&
        identity.natsJwt &&
        identity.natsSeed.startsWith('SU'),
    );
    const machine = await eventually(async () => {
      const res = await hub.api<MachineView>('GET', '/api/machines/soda-yeti');
      assert.ok(res.body.metrics, 'metrics reported');
      return res.body;
    });
    assert.equal(machine.status, 'online');
    assert.deepEqual(machine.labels, ['gpu=4090', 'room=lab']);
    assert.ok(machine.capabilities && machine.capabilities.cpus >= 1 && machine.capabilities.memoryMb > 0);
    assert.ok(machine.capabilityTags.includes('git'), 'git detected on this machine');
    assert.ok(machine.metrics!.memoryTotalMb > 0 && machine.metrics!.diskTotalMb > 0);
    assert.ok(machine.lastSeenAt);
    // live CPU % (not the load average) and memory, through the real API
    const live = await eventually(async () => {
      const res = await hub.api<MachineView>('GET', '/api/machines/soda-yeti');
      assert.ok(res.body.metrics?.cpuPercent !== undefined, 'CPU % reported');
      return res.body.metrics;
    });
    assert.ok(live.cpuPercent! >= 0 && live.cpuPercent! <= 100, `cpuPercent ${live.cpuPercent}`);
    assert.ok(live.cpuCoresPercent!.length >= 1 && live.cpuCoresPercent!.every((p) => p >= 0 && p <= 100));
    assert.ok(live.memoryTotalMb > 0 && live.memoryUsedMb <= live.memoryTotalMb);
    assert.equal(live.loadAverage?.length, 3);
  });

  it('filters by status, capability and label, and paginates', async () => {
    const byLabel = await hub.api<Page<MachineView>>('GET', '/api/machines?label=room%3Dlab');
    assert.deepEqual(
      byLabel.body.items.map((m) => m.name),
      ['soda-yeti'],
    );
    const byCapability = await hub.api<Page<MachineView>>('GET', '/api/machines?capability=git');
    assert.equal(byCapability.body.items.length, 2);
    const none = await hub.api<Page<MachineView>>('GET', '/api/machines?capability=ollama%3Allama3');
    assert.equal(none.body.items.length, 0);
    const first = await hub.api<Page<MachineView>>('GET', '/api/machines?limit=1');
    assert.equal(first.body.items.length, 1);
    assert.ok(first.body.nextCursor);
    const second = await hub.api<Page<MachineView>>('GET', `/api/machines?limit=1&cursor=${first.body.nextCursor}`);
    assert.equal(second.body.items.length, 1);
    assert.notEqual(second.body.items[0]?.id, first.body.items[0]?.id);
    assert.equal(second.body.nextCursor, undefined);
  });

  it('restarts without the join token, using its stored credential', async () => {
    await otter.kill('SIGTERM');
    const restartedAt = Date.now();
    otter.start({ WAGGLE_AGENT_JOIN_TOKEN: undefined, WAGGLE_AGENT_HUB_URL: undefined, WAGGLE_AGENT_NAME: undefined });
    await eventually(
      async () => {
        const res = await hub.api<MachineView>('GET', '/api/machines/mint-otter');
        assert.ok(Date.parse(res.body.lastSeenAt!) > restartedAt, 'a heartbeat from the restarted agent');
      },
      { what: 'heartbeat after restart' },
    );
    assert.ok(otter.running, `agent still running: ${otter.text().slice(-300)}`);
    const list = await hub.api<Page<MachineView>>('GET', '/api/machines');
    assert.equal(list.body.items.filter((m) => m.name === 'mint-otter').length, 1, 'no second machine was created');
  });

  it('goes offline after three missed heartbeats and online on the next one', async () => {
    // Online first: a restarted agent that stalled (a loaded machine) for three of the test's
    // 300 ms heartbeats was rightly marked offline, and this test would find that, not the kill's.
    await hub.waitOnline('mint-otter');
    await otter.kill('SIGKILL');
    const offline = await eventually(
      async () => {
        const res = await hub.api<MachineView>('GET', '/api/machines/mint-otter');
        assert.equal(res.body.status, 'offline');
        return res.body;
      },
      { what: 'mint-otter offline' },
    );
    const silentFor = Date.now() - Date.parse(offline.lastSeenAt!);
    assert.ok(silentFor >= 3 * hub.heartbeatIntervalMs, `offline after ${silentFor} ms of silence`);
    const offlineList = await hub.api<Page<MachineView>>('GET', '/api/machines?status=offline');
    assert.deepEqual(
      offlineList.body.items.map((m) => m.name),
      ['mint-otter'],
    );
    otter.start();
    await hub.waitOnline('mint-otter');
  });

  it('revokes a machine: its API credential and its NATS user stop working at once', async () => {
    const identity = (await yeti.identity())!;
    const before = await hub.api('GET', '/api/machines', undefined, identity.apiToken);
    assert.equal(before.status, 200, 'the machine credential works before');
    // A second gateway replica that has just accepted (and so remembers) the credential.
    const other = await hub.startGateway();
    const viaOther = () =>
      fetch(`${other.url}/api/machines`, { headers: { authorization: `Bearer ${identity.apiToken}` } }).then(
        (r) => r.status,
      );
    assert.equal(await viaOther(), 200);
    const exitCode = yeti.exited();

    const revoked = await hub.api<MachineView>('DELETE', '/api/machines/soda-yeti');
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.status, 'revoked');

    assert.equal((await hub.api('GET', '/api/machines', undefined, identity.apiToken)).status, 401);
    assert.equal((await hub.api('POST', '/api/messages', { to: 'all', body: 'x' }, identity.apiToken)).status, 401);
    // The other replica hears the machine.revoked event: refused within moments, not after its cache's minute.
    await eventually(async () => assert.equal(await viaOther(), 401), {
      timeoutMs: 5_000,
      what: 'the other gateway refusing the revoked credential',
    });
    assert.equal(await exitCode, 3, 'the running agent is cut off and stops');

    await assert.rejects(
      connect({
        servers: hub.nats.url,
        authenticator: jwtAuthenticator(identity.natsJwt, new TextEncoder().encode(identity.natsSeed)),
        inboxPrefix: MachineSubjects.replyPrefix(identity.machineId),
        maxReconnectAttempts: 0,
      }),
      /Authorization Violation/i,
      'the revoked NATS user cannot connect',
    );
    const listed = await hub.api<Page<MachineView>>('GET', '/api/machines');
    assert.deepEqual(
      listed.body.items.map((m) => m.name),
      ['mint-otter'],
    );
    assert.equal((await hub.api('POST', '/api/messages', { to: 'soda-yeti', body: 'x' })).status, 404);
  });

  it("one machine's NATS credential cannot read another machine's inbox", async () => {
    const identity = (await otter.identity())!;
    const nc = await connect({
      servers: hub.nats.url,
      authenticator: jwtAuthenticator(identity.natsJwt, new TextEncoder().encode(identity.natsSeed)),
      inboxPrefix: MachineSubjects.replyPrefix(identity.machineId),
    });
    try {
      const js = nc.jetstream();
      await assert.rejects(
        js.consumers
          .get(Streams.messages.name, Consumers.inbox('00000000-0000-0000-0000-000000000000'))
          .then((c) => c.info()),
      );
      const errors: string[] = [];
      void (async () => {
        for await (const s of nc.status()) {
          if (String(s.type) === 'error') {
            errors.push(JSON.stringify(s.data));
          }
        }
      })();
      nc.subscribe('waggle.m.*.inbox');
      await nc.flush();
      await eventually(
        () =>
          assert.ok(
            errors.some((e) => /PERMISSIONS_VIOLATION/.test(e)),
            errors.join(),
          ),
        { what: 'permissions violation' },
      );
    } finally {
      await nc.close();
    }
  });
});
