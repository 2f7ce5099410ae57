import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { childEnvironment } from '@waggle/config';
import type { ErrorBody, MachineView, Page, TaskView } from '@waggle/contracts';
import { eventually, installFakeClaude, present, runCli, TestHub } from '@waggle/testing';

/**
 * A machine creates tasks through the API only with the `dispatch` permission an admin
 * granted it, and even then never shell or command tasks for another machine. Help children
 * (made through `waggle help`) do not need it: help.e2e runs without any grant.
 */
describe('machines that dispatch tasks', () => {
  let hub: TestHub;
  let bin: string;
  let alphaToken: string;
  let betaToken: string;
  let betaId: string;

  before(async () => {
    bin = await mkdtemp(join(tmpdir(), 'waggle-dispatch-'));
    await installFakeClaude(bin);
    hub = await TestHub.start();
    const alpha = await hub.startAgent('alpha', { allowShell: true, allowCommand: true });
    const beta = await hub.startAgent('beta', {
      allowShell: true,
      allowCommand: true,
      env: { PATH: [bin, childEnvironment().PATH].join(delimiter) },
    });
    alphaToken = present(await alpha.identity(), 'alpha identity').apiToken;
    const betaIdentity = present(await beta.identity(), 'beta identity');
    betaToken = betaIdentity.apiToken;
    betaId = betaIdentity.machineId;
    // beta has an agent CLI (the fake claude), so an agent task can be placed on it.
    await eventually(async () => {
      const view = await hub.api<MachineView>('GET', '/api/machines/beta');
      assert.ok(view.body.capabilityTags.includes('claude'), view.body.capabilityTags.join(' '));
    });
  });

  after(async () => {
    await hub.stop();
    await rm(bin, { recursive: true, force: true });
  });

  const createAs = (token: string, body: object) => hub.api<TaskView & ErrorBody>('POST', '/api/tasks', body, token);
  const titled = async (title: string) =>
    (await hub.api<Page<TaskView>>('GET', '/api/tasks?limit=100')).body.items.filter((t) => t.title === title);
  const cli = (args: string[]) => runCli(args, { WAGGLE_HUB_URL: hub.url, WAGGLE_TOKEN: hub.adminToken });

  it('refuses a machine without dispatch, and its machine view says so', async () => {
    const view = await hub.api<MachineView>('GET', '/api/machines/alpha');
    assert.deepEqual(view.body.permissions, []);
    const res = await createAs(alphaToken, {
      title: 'not allowed',
      kind: 'agent',
      input: { prompt: 'hi' },
      target: 'beta',
    });
    assert.equal(res.status, 403);
    assert.match(res.body.message, /may not create tasks: an admin has not granted it dispatch/);
    assert.deepEqual(await titled('not allowed'), []);
  });

  it('lets only an admin grant dispatch (API and CLI), and shows it on the machine', async () => {
    const byMachine = await hub.api<ErrorBody>(
      'PUT',
      '/api/machines/alpha/permissions/dispatch',
      undefined,
      alphaToken,
    );
    assert.equal(byMachine.status, 403);
    const unknown = await hub.api<ErrorBody>('PUT', '/api/machines/alpha/permissions/root');
    assert.equal(unknown.status, 400);
    const granted = await cli(['machines', 'grant', 'alpha', 'dispatch']);
    assert.equal(granted.code, 0, granted.stderr);
    assert.match(granted.stdout, /alpha: dispatch/);
    const view = await hub.api<MachineView>('GET', '/api/machines/alpha', undefined, alphaToken);
    assert.deepEqual(view.body.permissions, ['dispatch']);
    // Granting twice changes nothing.
    const again = await hub.api<MachineView>('PUT', '/api/machines/alpha/permissions/dispatch');
    assert.deepEqual([again.status, again.body.permissions], [200, ['dispatch']]);
    const listed = await cli(['machines', '--json']);
    const alpha = (JSON.parse(listed.stdout) as MachineView[]).find((m) => m.name === 'alpha');
    assert.deepEqual(alpha?.permissions, ['dispatch']);
  });

  it('with dispatch: agent tasks anywhere, shell and command tasks only for itself', async () => {
    const agent = await createAs(alphaToken, {
      title: 'review for alpha',
      kind: 'agent',
      input: { prompt: 'review the change' },
      target: 'beta',
    });
    assert.equal(agent.status, 201, JSON.stringify(agent.body));
    assert.deepEqual([agent.body.createdBy.kind, agent.body.createdBy.name], ['machine', 'alpha']);
    const own = await createAs(alphaToken, {
      title: 'own shell',
      kind: 'shell',
      input: { script: 'echo on alpha' },
      target: 'alpha',
    });
    assert.equal(own.status, 201, JSON.stringify(own.body));
    await eventually(
      async () => {
        for (const id of [agent.body.id, own.body.id]) {
          const task = await hub.api<TaskView>('GET', `/api/tasks/${id}`, undefined, alphaToken);
          assert.equal(task.body.state, 'succeeded', `${task.body.title}: ${task.body.state}`);
        }
      },
      { timeoutMs: 30_000, what: 'both tasks done' },
    );

    for (const [title, body] of [
      ['shell at beta', { kind: 'shell', input: { script: 'id' }, target: 'beta' }],
      ['shell by beta id', { kind: 'shell', input: { script: 'id' }, target: betaId }],
      ['shell anywhere', { kind: 'shell', input: { script: 'id' } }],
      ['command at beta', { kind: 'command', input: { program: 'id' }, target: 'beta' }],
    ] as const) {
      const res = await createAs(alphaToken, { title, ...body });
      assert.equal(res.status, 403, `${title}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, /only for itself/, title);
      assert.deepEqual(await titled(title), [], `${title} was not stored`);
    }
    // beta holds no grant: the same agent task is refused to it.
    const byBeta = await createAs(betaToken, { title: 'beta tries', kind: 'agent', input: { prompt: 'x' } });
    assert.equal(byBeta.status, 403);
  });

  it('follows over /ws only the output it may read over REST', async () => {
    const secret = await hub.api<TaskView>('POST', '/api/tasks', {
      title: 'alpha only',
      kind: 'shell',
      input: { script: 'echo alpha-secret' },
      target: 'alpha',
    });
    assert.equal(secret.status, 201);
    const follow = (token: string) => {
      const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/ws`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const received: { type: string; code?: string }[] = [];
      ws.on('message', (raw: Buffer) => {
        const msg = JSON.parse(raw.toString('utf8')) as { type: string; code?: string };
        received.push(msg);
        if (msg.type === 'ready') {
          ws.send(JSON.stringify({ type: 'follow-logs', taskId: secret.body.id }));
        }
      });
      return { ws, received };
    };
    const beta = follow(betaToken);
    try {
      const refusal = await eventually(() =>
        present(
          beta.received.find((m) => m.type === 'error'),
          'refusal',
        ),
      );
      assert.equal(refusal.code, 'NOT_FOUND');
    } finally {
      beta.ws.close();
    }
    assert.equal((await hub.api('GET', `/api/tasks/${secret.body.id}/logs`, undefined, betaToken)).status, 404);
  });

  it('takes effect at once when withdrawn', async () => {
    const withdrawn = await cli(['machines', 'withdraw', 'alpha', 'dispatch']);
    assert.equal(withdrawn.code, 0, withdrawn.stderr);
    assert.match(withdrawn.stdout, /alpha: no permissions/);
    const res = await createAs(alphaToken, { title: 'after withdraw', kind: 'agent', input: { prompt: 'x' } });
    assert.equal(res.status, 403);
    assert.match(res.body.message, /dispatch/);
  });
});
