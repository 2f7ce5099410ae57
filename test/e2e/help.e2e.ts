import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { connect, jwtAuthenticator } from 'nats';

import { childEnvironment } from '@waggle/config';
import type { ErrorBody, Page, TaskView } from '@waggle/contracts';
import { MachineSubjects } from '@waggle/contracts';
import { request } from '@waggle/messaging';
import type { AgentProcess } from '@waggle/testing';
import { eventually, present, TestHub } from '@waggle/testing';

/** A stand-in for Claude Code on the helper's PATH: answers --version and -p PROMPT like the real CLI. */
const FAKE_CLAUDE = `#!/bin/sh
if [ "$1" = "--version" ]; then echo "1.0.0 (Claude Code)"; exit 0; fi
if [ "$1" = "-p" ]; then echo "claude reviewed: $2"; exit 0; fi
echo "unexpected arguments: $*" >&2; exit 2
`;

describe('help: a running task asks a peer, and a linked child task runs there', () => {
  let hub: TestHub;
  let asker: AgentProcess;
  let helper: AgentProcess;

  before(async () => {
    hub = await TestHub.start({ leaseSeconds: 5 });
    const bin = join(hub.dir, 'helper-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'claude'), FAKE_CLAUDE);
    await chmod(join(bin, 'claude'), 0o755);
    asker = await hub.startAgent('asker', { allowShell: true, labels: ['role=asker'] });
    helper = await hub.startAgent('helper', { env: { PATH: `${bin}:${childEnvironment().PATH ?? ''}` } });
    await hub.startAgent('bystander', { labels: ['role=bystander'] });
  });
  after(() => hub.stop());

  const create = (body: object) => hub.api<TaskView & ErrorBody>('POST', '/api/tasks', body);
  const get = async (id: string) => (await hub.api<TaskView>('GET', `/api/tasks/${id}`)).body;
  const finished = (id: string) =>
    eventually(
      async () => {
        const task = await get(id);
        assert.ok(['succeeded', 'failed', 'cancelled', 'timed_out'].includes(task.state), `state ${task.state}`);
        return task;
      },
      { timeoutMs: 30_000, what: `task ${id} finished` },
    );

  it('asks the peers that have the capability, queues a child on the one that can, and the parent waits for its result', async () => {
    const res = await create({
      title: 'needs a reviewer',
      kind: 'shell',
      requires: { labels: ['role=asker'] },
      input: {
        script:
          'waggle help --capability claude --reason "review my patch" --prompt "the patch" --wait && echo "parent carries on"',
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const parent = await finished(res.body.id);
    assert.equal(parent.state, 'succeeded', parent.result?.outputTail);
    assert.match(parent.result!.outputTail, /reviewed: the patch/, "the child's output came back to the parent");
    assert.match(parent.result!.outputTail, /parent carries on/);

    assert.equal(parent.help.length, 1);
    const help = present(parent.help[0], 'the help request');
    assert.equal(help.state, 'accepted');
    assert.equal(help.helper?.name, 'helper');
    assert.equal(help.etaSeconds, 0);
    assert.equal(help.reason, 'review my patch');
    assert.equal(help.from.name, 'asker');
    assert.deepEqual(help.requires.capabilities, ['claude']);
    // The bystander was not asked: it has no claude. Every peer is listed with why.
    const bystander = help.answers.find((a) => a.name === 'bystander');
    assert.equal(bystander?.accept, false);
    assert.match(bystander?.reason ?? '', /missing capability claude/);
    assert.equal(help.answers.find((a) => a.name === 'helper')?.accept, true);
    assert.ok(!help.answers.some((a) => a.name === 'asker'), 'a machine does not ask itself');

    const child = await get(help.childTaskId!);
    assert.equal(child.parentTaskId, parent.id, 'the child links to its parent');
    assert.equal(child.state, 'succeeded');
    assert.equal(child.machine?.name, 'helper');
    assert.equal(child.kind, 'agent');
    assert.equal(child.input.prompt, 'the patch');
    assert.equal(child.createdBy.kind, 'machine');
    assert.equal(child.createdBy.name, 'asker');
    assert.equal(child.attempts.length, 1);

    const listed = await hub.api<Page<TaskView>>('GET', '/api/tasks?limit=10');
    assert.equal(
      listed.body.items.find((t) => t.id === parent.id)?.help[0]?.childTaskId,
      child.id,
      'lists carry the links too',
    );
  });

  it('says so when no peer can help, and records why each was passed over', async () => {
    const res = await create({
      title: 'needs a gpu',
      kind: 'shell',
      requires: { labels: ['role=asker'] },
      input: { script: 'waggle help --capability gpu --reason "train it"; echo "help exit=$?"' },
    });
    const parent = await finished(res.body.id);
    assert.equal(parent.state, 'succeeded');
    assert.match(parent.result!.outputTail, /no peer can help/);
    assert.match(parent.result!.outputTail, /help exit=3/);
    assert.equal(parent.help[0]?.state, 'unanswered');
    assert.equal(parent.help[0]?.childTaskId, null);
    assert.deepEqual(parent.help[0]?.answers.map((a) => a.name).sort(), ['bystander', 'helper']);
    assert.ok(parent.help[0]?.answers.every((a) => /missing capability gpu/.test(a.reason ?? '')));
  });

  it("refuses help for an attempt that is not running: through the agent's socket and over NATS", async () => {
    const tasks = await hub.api<Page<TaskView>>('GET', '/api/tasks?state=succeeded&machine=asker');
    const done = tasks.body.items[0];
    assert.ok(done);
    const ask = {
      v: 1,
      taskId: done.id,
      attempt: done.attempt,
      requires: { capabilities: ['claude'] },
      reason: 'late',
    };

    const reply = await new Promise<string>((resolve, reject) => {
      const socket = createConnection(join(asker.stateDir, 'agent.sock'));
      let text = '';
      socket.setEncoding('utf8').on('data', (d: string) => (text += d));
      socket.on('end', () => resolve(text)).on('error', reject);
      socket.end(JSON.stringify({ op: 'help', body: ask }) + '\n');
    });
    assert.match(reply, /FORBIDDEN.*not running on this machine/);

    // A zombie holding the machine's real credential asks the hub directly: refused by the fence.
    const identity = (await asker.identity())!;
    const nc = await connect({
      servers: hub.nats.url,
      authenticator: jwtAuthenticator(identity.natsJwt, new TextEncoder().encode(identity.natsSeed)),
      inboxPrefix: MachineSubjects.replyPrefix(identity.machineId),
    });
    try {
      await assert.rejects(request(nc, MachineSubjects.helpAsk(identity.machineId), ask), /not current/);
    } finally {
      await nc.close();
    }
    const after = await get(done.id);
    assert.equal(after.help.length, done.help.length, 'nothing was recorded');
  });

  it('fails a task waiting for a machine that is then revoked, instead of leaving it waiting for ever', async () => {
    await helper.kill('SIGKILL');
    const res = await create({ title: 'for the helper', kind: 'agent', input: { prompt: 'later' }, target: 'helper' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal((await hub.api('DELETE', '/api/machines/helper')).status, 200);
    const task = await finished(res.body.id);
    assert.equal(task.state, 'failed');
    assert.equal(task.result?.error, 'the target machine was revoked');
  });
});
