import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';

import { connect, credsAuthenticator, jwtAuthenticator } from 'nats';
import type { NatsConnection, Subscription } from 'nats';

import type { ErrorBody, Page, SecretAuditView, TaskLogsPage, TaskView } from '@waggle/contracts';
import { MachineSubjects } from '@waggle/contracts';
import { authMaterialFiles } from '@waggle/credentials';
import { request } from '@waggle/messaging';
import type { AgentProcess } from '@waggle/testing';
import { eventually, TestHub } from '@waggle/testing';

/** Every form a value could travel in: as is, base64 (alone or inside a longer string), URL-encoded, hex. */
function leakForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  return [
    value,
    bytes.toString('base64'),
    bytes.toString('base64url'),
    encodeURIComponent(value),
    bytes.toString('hex'),
    // The middle of the value: a part long enough to be the secret, short enough to survive any framing.
    value.slice(4, -4),
  ];
}

function assertNoLeak(where: string, text: string, value: string) {
  for (const form of leakForms(value)) {
    assert.ok(!text.includes(form), `${where} holds the secret (as ${JSON.stringify(form.slice(0, 6))}…)`);
  }
}

describe('vault: secrets reach the task on the machine that runs it, and nowhere else', () => {
  let hub: TestHub;
  let agent: AgentProcess;
  let sniffer: NatsConnection;
  let everything: Subscription;
  /** Every NATS payload of the whole run, as text. */
  const traffic: string[] = [];
  // Characters that base64, URL-encoding and JSON all change.
  const value = `gh_${randomBytes(12).toString('hex')}/+=?&é ${randomBytes(4).toString('hex')}`;
  const script = [
    'printf "as is: %s\\n" "$GITHUB_TOKEN"',
    'printf "base64: %s\\n" "$(printf %s "$GITHUB_TOKEN" | base64 -w0)"',
    'printf "base64 inside: %s\\n" "$(printf "user:%s" "$GITHUB_TOKEN" | base64 -w0)"',
    'printf "url: %s\\n" "$(node -e "process.stdout.write(encodeURIComponent(process.env.GITHUB_TOKEN))")"',
    'printf "sha256: %s\\n" "$(printf %s "$GITHUB_TOKEN" | sha256sum | cut -d" " -f1)"',
    // The value cut between two writes: masked once whole.
    'head=${GITHUB_TOKEN%????????????}; printf "split: %s" "$head"; sleep 0.3; printf "%s\\n" "${GITHUB_TOKEN#"$head"}"',
    'printf "to stderr: %s\\n" "$GITHUB_TOKEN" >&2',
    'printf \'{"token":"%s"}\' "$GITHUB_TOKEN" > "$WAGGLE_RESULT_FILE"',
  ].join('\n');

  before(async () => {
    hub = await TestHub.start({ vault: {} });
    // A privileged credential (the hub's) sees every subject for the whole run: replies, JetStream, events.
    sniffer = await connect({
      servers: hub.nats.url,
      authenticator: credsAuthenticator(await readFile(authMaterialFiles(hub.nats.authDir).hubCreds)),
    });
    everything = sniffer.subscribe('>');
    void (async () => {
      for await (const msg of everything) {
        traffic.push(`${msg.subject} ${Buffer.from(msg.data).toString('utf8')}`);
      }
    })();
    await sniffer.flush();
    agent = await hub.startAgent('vault-runner', { allowShell: true });
  });
  after(async () => {
    await sniffer?.close();
    await hub?.stop();
  });

  const createTask = (body: Record<string, unknown>) => hub.api<TaskView & ErrorBody>('POST', '/api/tasks', body);
  const finished = (id: string, timeoutMs = 30_000) =>
    eventually(
      async () => {
        const task = await hub.api<TaskView>('GET', `/api/tasks/${id}`);
        if (!['succeeded', 'failed', 'cancelled', 'timed_out'].includes(task.body.state)) {
          throw new Error(`task is ${task.body.state}`);
        }
        return task.body;
      },
      { timeoutMs, what: `task ${id} finished (agent: ${agent.text().slice(-1500)})` },
    );

  it('a task sees its secret in its environment; its logs, result and events show [secret:NAME] in every form', async () => {
    assert.equal((await hub.api('POST', '/api/secrets', { name: 'gh-bot', value, category: 'token' })).status, 201);
    const created = await createTask({
      title: 'uses a secret',
      kind: 'shell',
      input: { script },
      secrets: { GITHUB_TOKEN: 'gh-bot' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.secrets, { GITHUB_TOKEN: 'gh-bot' });
    const task = await finished(created.body.id);
    assert.equal(task.state, 'succeeded', JSON.stringify(task.result));

    const logs = await hub.api<TaskLogsPage>('GET', `/api/tasks/${task.id}/logs?limit=500`);
    const of = (stream: string) =>
      logs.body.items
        .filter((c) => c.stream === stream)
        .map((c) => c.data)
        .join('');
    const text = of('stdout');
    const sha = createHash('sha256').update(value).digest('hex');
    assert.match(text, new RegExp(`sha256: ${sha}`), 'the task saw the exact value in its environment');
    assert.match(text, /as is: \[secret:gh-bot\]\n/);
    assert.match(text, /base64: \[secret:gh-bot\]\n/);
    assert.match(text, /base64 inside: \S*\[secret:gh-bot\]/);
    assert.match(text, /url: \[secret:gh-bot\]\n/);
    assert.match(text, /split: \[secret:gh-bot\]\n/);
    assert.equal(of('stderr'), 'to stderr: [secret:gh-bot]\n');
    assertNoLeak('the task logs', of('stderr'), value);
    assertNoLeak('the task logs', text, value);
    assertNoLeak('the task (result, output tail)', JSON.stringify(task), value);
    assert.deepEqual(task.result?.structured, { token: '[secret:gh-bot]' });

    const audit = await hub.api<Page<SecretAuditView>>('GET', '/api/secrets/audit?action=use');
    const use = audit.body.items.find((e) => e.detail?.taskId === task.id);
    assert.ok(use, 'the use by the task is in the audit trail');
    assert.equal(use.actor.kind, 'machine');
    assert.equal(use.actor.name, 'vault-runner');
    assert.equal(use.detail?.env, 'GITHUB_TOKEN');
    const secret = await hub.api<{ accessCount: number }>('GET', '/api/secrets/gh-bot');
    assert.equal(secret.body.accessCount, 1);
  });

  it('checks scope when a task is created and again when it is assigned', async () => {
    const missing = await createTask({ title: 'x', kind: 'shell', input: { script: 'true' }, secrets: { T: 'nope' } });
    assert.equal(missing.status, 404);
    assert.match(missing.body.message, /secret "nope" \(for T\) does not exist/);
    assert.equal(
      (await hub.api('POST', '/api/secrets', { name: 'deploy-key', value: 'web-only', project: 'web' })).status,
      201,
    );
    const outside = await createTask({
      title: 'x',
      kind: 'shell',
      input: { script: 'true' },
      secrets: { K: 'deploy-key' },
    });
    assert.equal(outside.status, 404, 'a project secret is out of reach of a task of no project');
    const otherProject = await createTask({
      title: 'x',
      kind: 'shell',
      input: { script: 'true' },
      project: 'api',
      secrets: { K: 'deploy-key' },
    });
    assert.equal(otherProject.status, 404, "another project's secret is out of reach");
    const bad = await createTask({
      title: 'x',
      kind: 'shell',
      input: { script: 'true' },
      secrets: { 'not-env': 'gh-bot' },
    });
    assert.equal(bad.status, 400);

    // Deleted after the task was accepted, before it is assigned (the machine's one slot is
    // busy meanwhile): the machine gets nothing and the task fails.
    const busy = await createTask({
      title: 'holds the slot',
      kind: 'shell',
      input: { script: 'sleep 30' },
      target: 'vault-runner',
    });
    assert.equal(busy.status, 201);
    await eventually(
      async () => assert.equal((await hub.api<TaskView>('GET', `/api/tasks/${busy.body.id}`)).body.state, 'running'),
      { what: 'the slot taken' },
    );
    const waiting = await createTask({
      title: 'secret deleted meanwhile',
      kind: 'shell',
      input: { script: 'printf "%s" "$K"' },
      target: 'vault-runner',
      project: 'web',
      maxAttempts: 1,
      secrets: { K: 'deploy-key' },
    });
    assert.equal(waiting.status, 201, JSON.stringify(waiting.body));
    assert.equal((await hub.api('DELETE', '/api/secrets/deploy-key?project=web')).status, 200);
    assert.equal((await hub.api('POST', `/api/tasks/${busy.body.id}/cancel`)).status, 200);
    const task = await finished(waiting.body.id);
    assert.equal(task.state, 'failed');
    assert.match(task.result?.error ?? '', /secret "deploy-key" \(for K\) no longer exists/);
    const refused = await hub.api<Page<SecretAuditView>>('GET', '/api/secrets/audit?action=refuse');
    assert.ok(refused.body.items.some((e) => e.detail?.taskId === task.id));
  });

  it('keeps a secret with a machine label for machines with that label: placement, then delivery', async () => {
    assert.equal(
      (await hub.api('POST', '/api/secrets', { name: 'gpu-key', value: 'for gpus', machineLabel: 'gpu=yes' })).status,
      201,
    );
    const nowhere = await createTask({
      title: 'x',
      kind: 'shell',
      input: { script: 'true' },
      secrets: { K: 'gpu-key' },
    });
    assert.equal(nowhere.status, 400, 'no machine has the label the secret needs');
    assert.match(nowhere.body.message, /gpu=yes/);

    // A task accepted for a secret with no label, whose secret is then kept for labelled
    // machines before it is assigned: the vault refuses the machine at delivery.
    assert.equal((await hub.api('POST', '/api/secrets', { name: 'swap', value: 'first' })).status, 201);
    const busy = await createTask({
      title: 'holds the slot',
      kind: 'shell',
      input: { script: 'sleep 30' },
      target: 'vault-runner',
    });
    assert.equal(busy.status, 201);
    await eventually(
      async () => assert.equal((await hub.api<TaskView>('GET', `/api/tasks/${busy.body.id}`)).body.state, 'running'),
      { what: 'the slot taken' },
    );
    const waiting = await createTask({
      title: 'waits for the slot',
      kind: 'shell',
      input: { script: 'printf "%s" "$K"' },
      target: 'vault-runner',
      maxAttempts: 1,
      secrets: { K: 'swap' },
    });
    assert.equal(waiting.status, 201, JSON.stringify(waiting.body));
    assert.equal((await hub.api('DELETE', '/api/secrets/swap')).status, 200);
    assert.equal(
      (await hub.api('POST', '/api/secrets', { name: 'swap', value: 'second', machineLabel: 'gpu=yes' })).status,
      201,
    );
    assert.equal((await hub.api('POST', `/api/tasks/${busy.body.id}/cancel`)).status, 200);
    const task = await finished(waiting.body.id);
    assert.equal(task.state, 'failed');
    assert.match(task.result?.error ?? '', /kept for machines labelled gpu=yes; this machine is not/);
  });

  it("gives a task's secrets only to the machine running its live attempt", async () => {
    const running = await createTask({
      title: 'long',
      kind: 'shell',
      input: { script: 'printf started; sleep 30' },
      secrets: { GITHUB_TOKEN: 'gh-bot' },
      timeoutSeconds: 60,
    });
    assert.equal(running.status, 201);
    await eventually(
      async () => {
        const t = await hub.api<TaskView>('GET', `/api/tasks/${running.body.id}`);
        if (t.body.state !== 'running') {
          throw new Error(t.body.state);
        }
      },
      { what: 'the task running' },
    );
    const other = await hub.startAgent('bystander');
    const identity = (await other.identity())!;
    const nc = await connect({
      servers: hub.nats.url,
      authenticator: jwtAuthenticator(identity.natsJwt, new TextEncoder().encode(identity.natsSeed)),
      inboxPrefix: MachineSubjects.replyPrefix(identity.machineId),
    });
    try {
      const sealKey = `X${'A'.repeat(55)}`;
      // On its own subject: the vault refuses, the attempt is not this machine's.
      await assert.rejects(
        request(
          nc,
          MachineSubjects.secretsOpen(identity.machineId),
          { v: 1, taskId: running.body.id, attempt: 1, sealKey },
          5_000,
        ),
        /not running on this machine/,
      );
      // On the runner's subject: NATS does not let it publish there at all.
      const runnerId = (await agent.identity())!.machineId;
      await assert.rejects(
        request(
          nc,
          MachineSubjects.secretsOpen(runnerId),
          { v: 1, taskId: running.body.id, attempt: 1, sealKey },
          2_000,
        ),
      );
    } finally {
      await nc.close();
      assert.equal((await hub.api('POST', `/api/tasks/${running.body.id}/cancel`)).status, 200);
    }
    await finished(running.body.id);
  });

  it('no NATS message of the whole run, and no line the hub or the agent printed, holds the value', async () => {
    await sniffer.flush();
    assert.ok(
      traffic.some((t) => /^waggle\.m\.[^.]+\.up\.secrets\.open /.test(t)),
      'the sniffer saw the machine ask for its secrets',
    );
    assert.ok(
      traffic.some((t) => t.includes('"sender":"X')),
      'the sealed reply was seen on NATS (as ciphertext)',
    );
    assertNoLeak('NATS traffic', traffic.join('\n'), value);
    for (const service of [hub.gateway, hub.registry, ...hub.taskRouters, hub.vault!, agent]) {
      assertNoLeak(`${service.name}'s output`, service.text(), value);
    }
  });
});
