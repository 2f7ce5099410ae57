import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { connect, credsAuthenticator, jwtAuthenticator } from 'nats';
import type { NatsConnection } from 'nats';
import WebSocket from 'ws';

import { childEnvironment } from '@waggle/config';
import type {
  AssignmentView,
  AttentionItemView,
  ErrorBody,
  Page,
  ScreenView,
  SessionState,
  SessionView,
} from '@waggle/contracts';
import { MachineSubjects, SessionsRpc } from '@waggle/contracts';
import { authMaterialFiles } from '@waggle/credentials';
import { programPath } from '@waggle/local-infra';
import { encodeJson, request } from '@waggle/messaging';
import type { AgentProcess } from '@waggle/testing';
import { eventually, installFakeInteractiveCli, runCli, spawnCli, TestHub } from '@waggle/testing';

const AGENT_ENV = { WAGGLE_AGENT_SESSIONS_WATCH_MS: '250' };

/**
 * Agent sessions end to end: the real tmux (on each agent's private socket), the real hub,
 * two agents, and a scripted stand-in for an interactive agent CLI.
 */
describe('agent sessions in tmux', () => {
  let hub: TestHub;
  let alpha: AgentProcess;
  let beta: AgentProcess;
  let fakeCli: string;
  let work: string;

  const session = (machine: string, name: string) => hub.api<SessionView>('GET', `/api/sessions/${machine}/${name}`);
  const screen = async (machine: string, name: string, scrollback = 0) => {
    const res = await hub.api<ScreenView>('GET', `/api/sessions/${machine}/${name}/screen?scrollback=${scrollback}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.text;
  };
  const waitState = (
    machine: string,
    name: string,
    state: SessionState,
    timeoutMs = 20_000,
    also: (s: SessionView) => boolean = () => true,
  ) =>
    eventually(
      async () => {
        const res = await session(machine, name);
        assert.equal(res.body.state, state, `${machine}:${name} is ${res.body.state}`);
        assert.ok(also(res.body), JSON.stringify(res.body));
        return res.body;
      },
      { timeoutMs, what: `${machine}:${name} ${state}` },
    );
  const send = (machine: string, name: string, body: object) =>
    hub.api<{ turn: number }>('POST', `/api/sessions/${machine}/${name}/send`, body);

  /** A request as a person signed in with `cookie` makes it. */
  const asPerson = async (cookie: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${hub.url}${path}`, {
      method,
      headers: { cookie, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as unknown };
  };
  const sockets: WebSocket[] = [];
  const openSocket = (headers: Record<string, string>) => {
    const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/ws`, { headers });
    sockets.push(ws);
    return followerOf(ws);
  };

  before(async () => {
    hub = await TestHub.start({ sessions: {} });
    work = join(hub.dir, 'work');
    await mkdir(work, { recursive: true });
    fakeCli = await installFakeInteractiveCli(join(hub.dir, 'bin'));
    alpha = await hub.startAgent('alpha', { allowSessions: true, env: AGENT_ENV });
    beta = await hub.startAgent('beta', { allowSessions: true, env: AGENT_ENV });
  });

  after(() => hub.stop());

  it('creates sessions on two machines and lists their windows, panes, commands and states', async () => {
    const created = await hub.api<SessionView>('POST', '/api/sessions', {
      machine: 'alpha',
      name: 'agent-1',
      command: [process.execPath, fakeCli],
      cli: 'claude',
      cwd: work,
      labels: ['role=worker'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.machine, 'alpha');
    const shell = await hub.api<SessionView>('POST', '/api/sessions', {
      machine: 'beta',
      name: 'sh-1',
      command: ['bash', '--norc', '--noprofile'],
      cwd: work,
      width: 100,
      height: 30,
    });
    assert.equal(shell.status, 201, JSON.stringify(shell.body));
    assert.equal(shell.body.cli, 'shell');

    const idle = await waitState('alpha', 'agent-1', 'idle');
    assert.equal(idle.cwd, work);
    assert.equal(idle.windows.length, 1);
    assert.equal(idle.windows[0]!.panes[0]!.command, 'node');
    assert.deepEqual(idle.labels, ['role=worker']);
    await waitState('beta', 'sh-1', 'idle');

    const all = await hub.api<Page<SessionView>>('GET', '/api/sessions');
    assert.deepEqual(
      all.body.items.map((s) => `${s.machine}:${s.name}`),
      ['alpha:agent-1', 'beta:sh-1'],
    );
    const onBeta = await hub.api<Page<SessionView>>('GET', '/api/sessions?machine=beta&limit=1');
    assert.deepEqual(
      onBeta.body.items.map((s) => s.name),
      ['sh-1'],
    );
    assert.equal((await screen('beta', 'sh-1')).length > 0, true);
    assert.equal(
      (await hub.api('POST', '/api/sessions', { machine: 'alpha', name: 'agent-1', command: ['bash'] })).status,
      409,
    );
    const shellString = await hub.api<ErrorBody>('POST', '/api/sessions', {
      machine: 'alpha',
      name: 'bad',
      command: 'bash -c "rm -rf /"',
    });
    assert.equal(shellString.status, 400);
    assert.match(JSON.stringify(shellString.body), /command/);
    const badName = await hub.api<ErrorBody>('POST', '/api/sessions', {
      machine: 'alpha',
      name: 'a.b:c',
      command: ['bash'],
    });
    assert.equal(badName.status, 400);
    assert.equal((await hub.api('GET', '/api/sessions/alpha/nope/screen')).status, 404);
  });

  it('types into a session, sees it busy then finished, and reads the screen and scrollback', async () => {
    const sent = await send('alpha', 'agent-1', { text: 'write the parser;', enter: true });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.turn, 1);
    await waitState('alpha', 'agent-1', 'busy', 5_000);
    const done = await waitState('alpha', 'agent-1', 'finished');
    assert.equal(done.turn, 1);
    assert.match(await screen('alpha', 'agent-1'), /Done: write the parser;/);

    await send('beta', 'sh-1', { text: 'for i in $(seq 1 200); do echo line-$i; done', enter: true });
    await eventually(async () => assert.match(await screen('beta', 'sh-1'), /line-200/));
    const visible = await screen('beta', 'sh-1');
    assert.doesNotMatch(visible, /line-100\n/);
    assert.match(await screen('beta', 'sh-1', 500), /line-100\n/);

    const resized = await hub.api<SessionView>('POST', '/api/sessions/beta/sh-1/resize', { width: 90, height: 20 });
    assert.equal(resized.status, 200, JSON.stringify(resized.body));
    assert.deepEqual([resized.body.windows[0]!.panes[0]!.width, resized.body.windows[0]!.panes[0]!.height], [90, 20]);
    assert.equal((await send('beta', 'sh-1', { keys: ['rm -rf /'] })).status, 400);
    assert.equal((await send('beta', 'sh-1', {})).status, 400);
  });

  it('puts a permission prompt in the attention inbox, answered from the API', async () => {
    await send('alpha', 'agent-1', { text: 'clean up PERMIT', enter: true });
    await waitState('alpha', 'agent-1', 'needs_input');
    const inbox = await eventually(async () => {
      const res = await hub.api<Page<AttentionItemView>>('GET', '/api/attention');
      const item = res.body.items.find((i) => i.machine === 'alpha' && i.session === 'agent-1');
      assert.equal(item?.state, 'needs_input');
      return item;
    });
    assert.match(inbox.excerpt ?? '', /Do you want to proceed\?/);
    const answered = await send('alpha', 'agent-1', { text: '1', enter: true });
    assert.equal(answered.status, 200);
    await waitState('alpha', 'agent-1', 'finished');
    assert.match(await screen('alpha', 'agent-1'), /Permission granted[\s\S]*Done: clean up PERMIT/);
    const item = await eventually(async () => {
      const res = await hub.api<Page<AttentionItemView>>('GET', '/api/attention');
      const found = res.body.items.find((i) => i.session === 'agent-1');
      assert.equal(found?.state, 'finished');
      return found;
    });
    assert.match(item.excerpt ?? '', /Done: clean up PERMIT/);
    assert.equal((await hub.api('POST', '/api/attention/alpha/agent-1/dismiss')).status, 200);
    const afterDismiss = await hub.api<Page<AttentionItemView>>('GET', '/api/attention');
    assert.equal(
      afterDismiss.body.items.some((i) => i.session === 'agent-1'),
      false,
    );
  });

  it('types an assignment into the idle session that fits and follows it to completed', async () => {
    const created = await hub.api<AssignmentView>('POST', '/api/assignments', {
      prompt: 'add a README section',
      capability: 'claude',
      labels: ['role=worker'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const done = await eventually(
      async () => {
        const res = await hub.api<AssignmentView>('GET', `/api/assignments/${created.body.id}`);
        assert.equal(res.body.state, 'completed', JSON.stringify(res.body));
        return res.body;
      },
      { timeoutMs: 30_000, what: 'assignment completed' },
    );
    assert.equal(done.session, 'alpha:agent-1');
    assert.equal(done.attempts, 1);
    assert.match(await screen('alpha', 'agent-1'), /Done: add a README section/);

    // Nothing fits a label no session carries: it waits, and can be cancelled, retried, cleared.
    const waiting = await hub.api<AssignmentView>('POST', '/api/assignments', {
      prompt: 'never typed',
      labels: ['role=manager'],
    });
    assert.equal(waiting.status, 201);
    const cancelled = await hub.api<AssignmentView>('POST', `/api/assignments/${waiting.body.id}/cancel`);
    assert.equal(cancelled.body.state, 'cancelled');
    assert.equal((await hub.api('POST', `/api/assignments/${waiting.body.id}/cancel`)).status, 409);
    const cleared = await hub.api<{ cleared: number }>('DELETE', '/api/assignments');
    assert.equal(cleared.body.cleared, 2);
    assert.equal((await hub.api('GET', `/api/assignments/${waiting.body.id}`)).status, 404);
    assert.equal((await hub.api('POST', '/api/assignments', { prompt: 'x', target: 'no-colon' })).status, 400);
  });

  it('lets viewers read sessions and watch their live output, operators type, and machines neither', async (t) => {
    // A socket a failed step left open would keep renewing its watch.
    t.after(() => sockets.forEach((ws) => ws.close()));
    const viewer = await hub.createUser('vera', 'viewer');
    const operator = await hub.createUser('otto', 'operator');
    const viewerCookie = await hub.signIn(viewer);
    const operatorCookie = await hub.signIn(operator);
    for (const path of [
      '/api/sessions',
      '/api/sessions/beta/sh-1',
      '/api/sessions/beta/sh-1/screen',
      '/api/attention',
      '/api/assignments',
    ]) {
      const res = await asPerson(viewerCookie, 'GET', path);
      assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
    }
    const typedByViewer = await asPerson(viewerCookie, 'POST', '/api/sessions/beta/sh-1/send', { text: 'echo viewer' });
    assert.equal(typedByViewer.status, 403);
    assert.match(JSON.stringify(typedByViewer.body), /needs the operator role/);
    for (const [method, path] of [
      ['POST', '/api/assignments'],
      ['DELETE', '/api/sessions/beta/sh-1'],
      ['POST', '/api/sessions/beta/sh-1/resize'],
      ['POST', '/api/attention/beta/sh-1/dismiss'],
    ] as const) {
      assert.equal((await asPerson(viewerCookie, method, path, {})).status, 403, `${method} ${path}`);
    }

    // The viewer follows beta:sh-1 on /ws; the agent starts streaming only now.
    assert.equal(await panePipe(beta.tmuxSocket, 'sh-1'), '0', 'nothing streams before someone watches');
    const watcher = openSocket({ cookie: viewerCookie });
    await watcher.ready;
    watcher.ws.send(JSON.stringify({ type: 'follow-session', machine: 'beta', session: 'sh-1' }));
    await watcher.next((m) => m.type === 'following');
    assert.equal(await panePipe(beta.tmuxSocket, 'sh-1'), '1');

    const typed = await asPerson(operatorCookie, 'POST', '/api/sessions/beta/sh-1/send', {
      text: 'echo streamed-$((6*7))',
      enter: true,
    });
    assert.equal(typed.status, 200, JSON.stringify(typed.body));
    // Output printed after the follow began: the shell's answer, not the typed text.
    await eventually(() => assert.match(watcher.output(), /streamed-42/));
    // 130 KB at once: more than the agent holds (64 Ki characters); what it could not send is counted as dropped.
    const flood = await asPerson(operatorCookie, 'POST', '/api/sessions/beta/sh-1/send', {
      text: 'seq 1 20000',
      enter: true,
    });
    assert.equal(flood.status, 200);
    await eventually(() => assert.match(watcher.output(), /\n20000\r\n/, watcher.output().slice(-100)), {
      what: 'the end of the flood',
    });
    const chunks = watcher.messages.filter((m) => m.type === 'session-output');
    assert.ok(chunks.every((c) => c.machine === 'beta' && c.session === 'sh-1' && String(c.data).length <= 16 * 1024));
    const seqs = chunks.map((c) => Number(c.seq));
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'in order',
    );
    const received = chunks.reduce((n, c) => n + String(c.data).length + Number(c.dropped), 0);
    assert.ok(
      received >= 128_000,
      `every character arrived or was counted as dropped (${received}): ${JSON.stringify(chunks.map((c) => [c.seq, String(c.data).length, c.dropped]))}`,
    );

    // A second follower shares the stream; the stream stops on the agent when the last one goes.
    const second = openSocket({ authorization: `Bearer ${hub.adminToken}` });
    await second.ready;
    second.ws.send(JSON.stringify({ type: 'follow-session', machine: 'beta', session: 'sh-1' }));
    await second.next((m) => m.type === 'following');
    watcher.ws.close();
    await watcher.closed;
    assert.equal(
      (
        await asPerson(operatorCookie, 'POST', '/api/sessions/beta/sh-1/send', {
          text: 'echo still-$((2*3))',
          enter: true,
        })
      ).status,
      200,
    );
    await eventually(() => assert.match(second.output(), /still-6/));
    assert.equal(await panePipe(beta.tmuxSocket, 'sh-1'), '1');
    second.ws.close();
    await eventually(async () => {
      assert.equal(await panePipe(beta.tmuxSocket, 'sh-1'), '0');
      await assert.rejects(access(join(beta.stateDir, 'streams', 'sh-1.fifo')), 'the FIFO is removed');
      assert.deepEqual(await readersOf(join(beta.stateDir, 'streams', 'sh-1.fifo')), [], 'the reader exited');
    });

    // Leaving and coming straight back: the unwatch cannot overtake the new watch.
    const again = openSocket({ authorization: `Bearer ${hub.adminToken}` });
    await again.ready;
    again.ws.send(JSON.stringify({ type: 'follow-session', machine: 'beta', session: 'sh-1' }));
    await again.next((m) => m.type === 'following');
    again.ws.send(JSON.stringify({ type: 'unfollow-session', machine: 'beta', session: 'sh-1' }));
    again.messages.length = 0;
    again.ws.send(JSON.stringify({ type: 'follow-session', machine: 'beta', session: 'sh-1' }));
    await again.next((m) => m.type === 'following');
    assert.equal(
      (
        await asPerson(operatorCookie, 'POST', '/api/sessions/beta/sh-1/send', {
          text: 'echo back-$((4*4))',
          enter: true,
        })
      ).status,
      200,
    );
    await eventually(() => assert.match(again.output(), /back-16/));
    assert.equal(await panePipe(beta.tmuxSocket, 'sh-1'), '1');
    again.ws.close();
    await eventually(async () => assert.equal(await panePipe(beta.tmuxSocket, 'sh-1'), '0'));

    // No such session: a clear error on the socket, nothing streams.
    const third = openSocket({ authorization: `Bearer ${hub.adminToken}` });
    await third.ready;
    third.ws.send(JSON.stringify({ type: 'follow-session', machine: 'beta', session: 'nope' }));
    const missing = await third.next((m) => m.type === 'error');
    assert.equal(missing.code, 'NOT_FOUND');
    // Each follow asks a machine's agent: a socket may start 30 a minute.
    for (let i = 1; i <= 30; i++) {
      third.ws.send(JSON.stringify({ type: 'follow-session', machine: 'beta', session: `nope-${i}` }));
    }
    const limited = await third.next((m) => m.type === 'error' && m.code === 'RATE_LIMITED');
    assert.equal(limited.session, 'nope-30');
    third.ws.close();
  });

  it('stops streaming when no watcher renews its lease', async () => {
    const betaId = (await beta.identity())!.machineId;
    const nc = await connect({
      servers: hub.nats.url,
      authenticator: credsAuthenticator(readFileSync(authMaterialFiles(hub.nats.authDir).hubCreds)),
    });
    try {
      // Two replicas asking at once share one stream: one FIFO, one reader.
      const replies = await Promise.all(
        ['gone-1', 'gone-2'].map((watcher) =>
          request<{ watching: boolean }>(nc, MachineSubjects.sessions(betaId, 'watch'), {
            v: 1,
            name: 'sh-1',
            watcher,
            leaseMs: 1_000,
          }),
        ),
      );
      assert.deepEqual(
        replies.map((r) => r.watching),
        [true, true],
      );
      assert.equal(await panePipe(beta.tmuxSocket, 'sh-1'), '1');
      assert.equal((await readersOf(join(beta.stateDir, 'streams', 'sh-1.fifo'))).length, 1);
      await eventually(async () => assert.equal(await panePipe(beta.tmuxSocket, 'sh-1'), '0'), {
        timeoutMs: 5_000,
        what: 'the lease ended',
      });
    } finally {
      await nc.close();
    }
  });

  it("a machine's NATS credential cannot read, type into or report another machine's sessions", async () => {
    const alphaId = (await alpha.identity())!.machineId;
    const identity = (await beta.identity())!;
    const nc = await connect({
      servers: hub.nats.url,
      authenticator: jwtAuthenticator(identity.natsJwt, new TextEncoder().encode(identity.natsSeed)),
      inboxPrefix: MachineSubjects.replyPrefix(identity.machineId),
    });
    const violations = watchViolations(nc);
    try {
      const subError = new Promise<string>((resolve) =>
        nc.subscribe(MachineSubjects.sessionsAll(alphaId), { callback: (err) => err && resolve(String(err)) }),
      );
      assert.match(await subError, /permissions violation/i);
      const outputError = new Promise<string>((resolve) =>
        nc.subscribe(MachineSubjects.sessionOutput(alphaId, 'agent-1'), {
          callback: (err) => err && resolve(String(err)),
        }),
      );
      assert.match(await outputError, /permissions violation/i, "another machine's live output");
      nc.publish(
        MachineSubjects.sessions(alphaId, 'watch'),
        encodeJson({ v: 1, name: 'agent-1', watcher: 'beta', leaseMs: 60_000 }),
      );
      nc.publish(
        SessionsRpc.watch,
        encodeJson({ machine: 'alpha', session: 'agent-1', watcher: 'beta', leaseMs: 60_000 }),
      );
      nc.publish(MachineSubjects.sessions(alphaId, 'send'), encodeJson({ v: 1, name: 'agent-1', text: 'INJECTED' }));
      nc.publish(SessionsRpc.send, encodeJson({ machine: 'alpha', session: 'agent-1', text: 'INJECTED' }));
      nc.publish(MachineSubjects.sessionsReport(alphaId), encodeJson({ v: 1, sessions: [] }));
      await nc.flush();
      await eventually(() => {
        for (const subject of [
          MachineSubjects.sessions(alphaId, 'watch'),
          SessionsRpc.watch,
          MachineSubjects.sessions(alphaId, 'send'),
          SessionsRpc.send,
          MachineSubjects.sessionsReport(alphaId),
        ]) {
          assert.ok(violations.includes(`publish ${subject}`), `${subject}: ${violations.join()}`);
        }
      });
      assert.doesNotMatch(await screen('alpha', 'agent-1'), /INJECTED/);
      assert.equal(await panePipe(alpha.tmuxSocket, 'agent-1'), '0', 'nothing streams for beta');
      // Nor through the hub: a machine's /ws socket may not follow sessions.
      const socket = openSocket({ authorization: `Bearer ${identity.apiToken}` });
      await socket.ready;
      socket.ws.send(JSON.stringify({ type: 'follow-session', machine: 'alpha', session: 'agent-1' }));
      const refused = await socket.next((m) => m.type === 'error');
      assert.equal(refused.code, 'FORBIDDEN');
      socket.ws.close();
      assert.equal(
        (await hub.api('GET', '/api/sessions/alpha/agent-1/screen', undefined, identity.apiToken)).status,
        403,
      );
      assert.equal((await session('alpha', 'agent-1')).status, 200, 'the false report changed nothing');
    } finally {
      await nc.close();
    }
  });

  it('gets unread messages into the next prompt and its state from the hooks `waggle hooks install` wrote', async () => {
    const project = join(hub.dir, 'project');
    await mkdir(project, { recursive: true });
    const installed = await runCli(['hooks', 'install', 'claude', '--project', project]);
    assert.equal(installed.code, 0, installed.stderr);
    const status = await runCli(['hooks', 'status', 'claude', '--project', project]);
    assert.match(status.stdout, /claude: installed/);
    assert.match(status.stdout, /UserPromptSubmit: waggle inbox --unread --mark-read/);

    const created = await hub.api<SessionView>('POST', '/api/sessions', {
      machine: 'beta',
      name: 'hooked',
      command: [process.execPath, fakeCli],
      cli: 'claude',
      cwd: project,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // Its screen may say idle first (the hook starts a Node process); then the SessionStart hook speaks.
    await waitState('beta', 'hooked', 'idle', 20_000, (s) => s.stateSource === 'hook');

    const message = await hub.api('POST', '/api/messages', { to: 'beta', body: 'please rebase onto main' });
    assert.equal(message.status, 201);
    await eventually(async () => assert.equal((await beta.messages()).length, 1));
    await send('beta', 'hooked', { text: 'next step', enter: true });
    const done = await waitState('beta', 'hooked', 'finished');
    assert.equal(done.stateSource, 'hook');
    assert.match(await screen('beta', 'hooked'), /⎿ {2}.*please rebase onto main[\s\S]*Done: next step/);
    const [stored] = await beta.messages();
    assert.ok(stored?.readAt, 'the hook marked it read');

    await send('beta', 'hooked', { text: 'again', enter: true });
    await eventually(async () => assert.match(await screen('beta', 'hooked'), /Done: again/));
    assert.equal((await screen('beta', 'hooked')).match(/please rebase onto main/g)?.length, 1, 'shown once');

    const removed = await runCli(['hooks', 'uninstall', 'claude', '--project', project]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match((await runCli(['hooks', 'status', 'claude', '--project', project])).stdout, /claude: not installed/);
  });

  it('installs the hooks for a session created with hooks: true', async () => {
    const project = join(hub.dir, 'auto-hooked');
    await mkdir(project, { recursive: true });
    const refused = await hub.api<ErrorBody>('POST', '/api/sessions', {
      machine: 'beta',
      name: 'sh-hooks',
      command: ['bash'],
      cwd: project,
      hooks: true,
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /hooks are for claude, codex and gemini sessions/);
    const created = await hub.api<SessionView>('POST', '/api/sessions', {
      machine: 'beta',
      name: 'auto-hooked',
      command: [process.execPath, fakeCli],
      cli: 'claude',
      cwd: project,
      hooks: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match((await runCli(['hooks', 'status', 'claude', '--project', project])).stdout, /claude: installed/);
    await waitState('beta', 'auto-hooked', 'idle', 20_000, (s) => s.stateSource === 'hook');
    assert.equal((await hub.api('DELETE', '/api/sessions/beta/auto-hooked')).status, 200);
  });

  it("recreates a killed agent's sessions after a reboot, and forgets killed sessions", async () => {
    assert.equal((await hub.api('DELETE', '/api/sessions/beta/sh-1')).status, 200);
    assert.equal((await hub.api('DELETE', '/api/sessions/beta/hooked')).status, 200);
    await eventually(async () => assert.equal((await session('beta', 'sh-1')).status, 404));
    // A reboot: the agent dies, its tmux server with every session goes.
    await alpha.kill('SIGKILL');
    await alpha.killTmux();
    alpha.start();
    await hub.waitOnline('alpha');
    const back = await waitState('alpha', 'agent-1', 'idle', 30_000);
    assert.equal(back.turn, 0, 'a new program');
    assert.deepEqual(back.command, [process.execPath, fakeCli]);
    assert.match(await screen('alpha', 'agent-1'), /Fake Agent CLI/);
    await beta.kill('SIGKILL');
    beta.start();
    await hub.waitOnline('beta');
    const list = await hub.api<Page<SessionView>>('GET', '/api/sessions?machine=beta');
    assert.deepEqual(list.body.items, []);
  });

  it('does the same from the waggle command', async () => {
    const env = { WAGGLE_HUB_URL: hub.url, WAGGLE_TOKEN: hub.adminToken };
    // beta was restarted by the test before: its sessions answer a moment after it is online.
    const made = await eventually(async () => {
      const res = await runCli(
        ['sessions', 'new', 'beta', '--name', 'cli-sh', '--cwd', work, '--', 'bash', '--norc'],
        env,
      );
      assert.equal(res.code, 0, res.stderr);
      return res;
    });
    assert.match(made.stdout, /beta:cli-sh/);
    const sent = await runCli(['sessions', 'send', 'beta:cli-sh', 'echo from-the-cli;'], env);
    assert.equal(sent.code, 0, sent.stderr);
    await eventually(async () => {
      const captured = await runCli(['sessions', 'capture', 'beta:cli-sh'], env);
      assert.match(captured.stdout, /^from-the-cli$/m);
    });
    const list = await runCli(['sessions', 'list', '--machine', 'beta'], env);
    assert.match(list.stdout, /beta:cli-sh/);

    // attach: the live terminal; an admin types into it, a viewer only watches; Ctrl-] detaches.
    const typist = attached(['sessions', 'attach', 'beta:cli-sh'], env);
    await eventually(() => assert.match(typist.stderr(), /attached to beta:cli-sh; Ctrl-\] detaches/));
    const viewerToken = (await hub.api<{ token: string }>('POST', '/api/tokens', { name: 'wall', role: 'viewer' })).body
      .token;
    const onlooker = attached(['sessions', 'attach', 'beta:cli-sh'], { ...env, WAGGLE_TOKEN: viewerToken });
    await eventually(() => assert.match(onlooker.stderr(), /attached to beta:cli-sh \(read-only\)/));
    typist.child.stdin.write('echo typed-$((3*4))\r');
    await eventually(() => assert.match(typist.stdout(), /typed-12/));
    await eventually(() => assert.match(onlooker.stdout(), /typed-12/), { what: 'the viewer sees it too' });
    onlooker.child.stdin.write('echo from-a-viewer-$((1+1))\r');
    typist.child.stdin.write('echo after-$((2+2))\r');
    await eventually(() => assert.match(onlooker.stdout(), /after-4/));
    assert.doesNotMatch(onlooker.stdout(), /from-a-viewer/, "the viewer's typing was not sent");
    typist.child.stdin.write('\x1d');
    onlooker.child.stdin.write('\x1d');
    assert.equal(await typist.exited, 0, typist.stderr());
    assert.equal(await onlooker.exited, 0, onlooker.stderr());
    assert.doesNotMatch((await runCli(['sessions', 'capture', 'beta:cli-sh'], env)).stdout, /from-a-viewer-2/);

    // In a real terminal (a pty from script(1)): raw mode, so Ctrl-C goes to the session and
    // interrupts its program instead of ending the attach.
    const quote = (a: string) => `'${a.replaceAll("'", `'\\''`)}'`;
    const inPty = spawn(
      'script',
      [
        '-q',
        '-e',
        '-c',
        [process.execPath, programPath('cli'), 'sessions', 'attach', 'beta:cli-sh'].map(quote).join(' '),
        '/dev/null',
      ],
      { env: childEnvironment({ TERM: 'xterm', ...env }) },
    );
    let ptyOut = '';
    inPty.stdout.on('data', (c: Buffer) => (ptyOut += c.toString()));
    const ptyExited = new Promise<number>((resolve) => inPty.on('exit', (code) => resolve(code ?? 1)));
    await eventually(() => assert.match(ptyOut, /attached to beta:cli-sh/));
    inPty.stdin.write('sleep 60\r');
    await eventually(() => assert.match(ptyOut, /sleep 60\r+\n/));
    inPty.stdin.write('\x03');
    inPty.stdin.write('echo after-ctrl-c-$((5*5))\r');
    await eventually(() => assert.match(ptyOut, /[\r\n]after-ctrl-c-25/), {
      timeoutMs: 15_000,
      what: 'Ctrl-C reached the session',
    });
    inPty.stdin.write('\x1d');
    assert.equal(await ptyExited, 0, ptyOut);
    await eventually(async () => assert.equal(await panePipe(beta.tmuxSocket, 'cli-sh'), '0'));
    const assigned = await runCli(
      ['assign', 'echo assigned-by-cli', '--target', 'beta:cli-sh', '--timeout', '2m'],
      env,
    );
    assert.equal(assigned.code, 0, assigned.stderr);
    await eventually(async () => {
      const listed = await runCli(['assignments', 'list', '--state', 'completed'], env);
      assert.match(listed.stdout, /beta:cli-sh/);
    });
    assert.match((await runCli(['sessions', 'capture', 'beta:cli-sh'], env)).stdout, /^assigned-by-cli$/m);
    const attention = await runCli(['attention'], env);
    assert.equal(attention.code, 0, attention.stderr);
    assert.match(attention.stdout, /beta:cli-sh\s+finished/);
    const bad = await runCli(['sessions', 'capture', 'no-colon'], env);
    assert.equal(bad.code, 2);
    assert.equal((await runCli(['sessions', 'kill', 'beta:cli-sh'], env)).code, 0);
  });

  it('reports a program that ended as exited, with its status', async () => {
    await send('alpha', 'agent-1', { text: 'exit', enter: true });
    // tmux marks the pane dead when the terminal closes and learns the status when it reaps
    // the program; about one run in six it had not within 20 s (cause not found: see
    // docs/sessions.md), so the status is held to 7 only once tmux tells it.
    const exited = await waitState('alpha', 'agent-1', 'exited', 20_000);
    assert.ok(exited.exitStatus === 7 || exited.exitStatus === null, `exit status ${exited.exitStatus}`);
  });
});

function watchViolations(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (String(s.type) === 'error') {
        const context = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
        seen.push(context ? `${context.operation} ${context.subject}` : JSON.stringify(s.data));
      }
    }
  })();
  return seen;
}

type WsMessage = Record<string, unknown> & { type: string };

/** `waggle …` running with a piped stdin: its output so far and its exit code. */
function attached(args: string[], env: Record<string, string>) {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** A /ws client that keeps every message it got. */
function followerOf(ws: WebSocket) {
  const messages: WsMessage[] = [];
  ws.on('message', (raw: Buffer) => messages.push(JSON.parse(raw.toString('utf8')) as WsMessage));
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  return {
    ws,
    messages,
    closed,
    ready: eventually(() => assert.ok(messages.some((m) => m.type === 'ready')), { what: 'socket ready' }),
    next: (match: (m: WsMessage) => boolean) =>
      eventually(
        () => {
          const found = messages.find(match);
          assert.ok(found, JSON.stringify(messages.slice(-3)));
          return found;
        },
        { what: 'a message on the socket' },
      ),
    /** Every session-output piece so far, joined. */
    output: () =>
      messages
        .filter((m) => m.type === 'session-output')
        .map((m) => String(m.data))
        .join(''),
  };
}

/** Whether tmux pipes the session's pane somewhere now ("1") or not ("0"). */
async function panePipe(socket: string, session: string): Promise<string> {
  const { stdout } = await promisify(execFile)('tmux', [
    '-S',
    socket,
    'display-message',
    '-p',
    '-t',
    `=${session}:`,
    '#{pane_pipe}',
  ]);
  return stdout.trim();
}

/** Processes whose command line names this path (the agent's reader of a FIFO). */
async function readersOf(path: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').includes(path)) {
      pids.push(Number(entry));
    }
  }
  return pids;
}
