import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import WebSocket from 'ws';

import type { CreatedApiToken, CreatedUser, ErrorBody, Page, SessionView, TaskView, UserView } from '@waggle/contracts';
import type { TestUser } from '@waggle/testing';
import { eventually, rateWindowWithRoom, runCli, spawnCli, TestHub } from '@waggle/testing';

interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** A request as a browser signed in with `cookie` makes it (same origin, JSON). */
async function call<T = unknown>(
  hub: TestHub,
  method: string,
  path: string,
  cookie: string | null,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const response = await fetch(`${hub.url}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(cookie ? { cookie } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
}

const login = (hub: TestHub, name: string, password: string) =>
  call<SessionView & ErrorBody>(hub, 'POST', '/api/auth/login', null, { name, password });

/** The `name=value` part of a login's Set-Cookie. */
const cookieOf = (answer: Answer<unknown>) => answer.headers.getSetCookie()[0]?.split(';')[0] ?? '';

function openSocket(hub: TestHub, headers: Record<string, string>) {
  const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/ws`, { headers });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const ready = new Promise<{ kind: string; name: string }>((resolve) =>
    ws.on('message', (raw: Buffer) => {
      const msg = JSON.parse(raw.toString('utf8')) as { type: string; principal?: { kind: string; name: string } };
      if (msg.type === 'ready' && msg.principal) {
        resolve(msg.principal);
      }
    }),
  );
  return { ws, closed, ready };
}

describe('people sign in, and their role decides what they may do', () => {
  let hub: TestHub;
  let viewer: TestUser;
  let operator: TestUser;
  let viewerCookie: string;
  let operatorCookie: string;
  const node = process.execPath;

  before(async () => {
    hub = await TestHub.start();
    await hub.startAgent('people-worker', { allowCommand: true, slots: 4 });
    viewer = await hub.createUser('vera', 'viewer');
    operator = await hub.createUser('otto', 'operator');
    viewerCookie = await hub.signIn(viewer);
    operatorCookie = await hub.signIn(operator);
  });
  after(() => hub.stop());

  it('signs the first admin in with an HttpOnly, SameSite=Strict cookie and answers who and until when', async () => {
    const before = Date.now();
    const res = await login(hub, 'admin', hub.adminPassword);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user.name, 'admin');
    assert.equal(res.body.user.role, 'admin');
    assert.equal(res.body.idleSeconds, 3600);
    const expires = Date.parse(res.body.expiresAt);
    assert.ok(expires >= before + 3_595_000 && expires <= Date.now() + 3_605_000, res.body.expiresAt);
    assert.equal(res.headers.get('x-waggle-session-expires'), res.body.expiresAt);

    const setCookie = res.headers.getSetCookie();
    assert.equal(setCookie.length, 1);
    const [pair, ...attributes] = setCookie[0]!.split(/;\s*/);
    assert.match(pair!, /^waggle_session=[\w-]{43}$/);
    assert.deepEqual(attributes.map((a) => a.toLowerCase()).sort(), ['httponly', 'path=/', 'samesite=strict']);
    // Plain http here: no Secure flag (a browser would drop a Secure cookie on http).
    assert.ok(!attributes.some((a) => a.toLowerCase() === 'secure'));
  });

  it('answers the same 401 for a wrong password and for an unknown name', async () => {
    const wrong = await login(hub, 'vera', `${viewer.password}x`);
    const unknown = await login(hub, 'nobody-here', viewer.password);
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.body.code, 'UNAUTHENTICATED');
    assert.equal(wrong.body.message, unknown.body.message);
    assert.deepEqual(wrong.headers.getSetCookie(), []);
  });

  it('looks at a session without extending it; any other request, or extend, moves its end', async () => {
    const cookie = await hub.signIn(operator);
    const first = await call<SessionView>(hub, 'GET', '/api/auth/session', cookie);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.user, { id: operator.id, name: 'otto', role: 'operator' });
    // Postgres's clock moves on between requests: a later request ends later, a look leaves the end as it was.
    await eventually(async () => {
      const again = await call<SessionView>(hub, 'GET', '/api/auth/session', cookie);
      assert.equal(again.body.expiresAt, first.body.expiresAt);
      const read = await call(hub, 'GET', '/api/machines', cookie);
      assert.equal(read.status, 200);
      const moved = read.headers.get('x-waggle-session-expires');
      assert.ok(
        moved && Date.parse(moved) > Date.parse(first.body.expiresAt),
        `${moved} after ${first.body.expiresAt}`,
      );
    });
    const now = await call<SessionView>(hub, 'GET', '/api/auth/session', cookie);
    await eventually(async () => {
      const extended = await call<SessionView>(hub, 'POST', '/api/auth/session/extend', cookie);
      assert.equal(extended.status, 200);
      assert.ok(Date.parse(extended.body.expiresAt) > Date.parse(now.body.expiresAt));
      assert.equal(extended.headers.get('x-waggle-session-expires'), extended.body.expiresAt);
    });
  });

  it('signs out: the session ends on the hub and the cookie is cleared', async () => {
    const cookie = await hub.signIn(viewer);
    assert.equal((await call(hub, 'GET', '/api/tasks', cookie)).status, 200);
    const out = await call(hub, 'POST', '/api/auth/logout', cookie);
    assert.equal(out.status, 204);
    assert.match(
      out.headers.getSetCookie()[0] ?? '',
      /^waggle_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    // The browser would drop the cookie; someone who kept it gets nothing.
    assert.equal((await call(hub, 'GET', '/api/tasks', cookie)).status, 401);
    assert.equal((await call(hub, 'GET', '/api/auth/session', cookie)).status, 401);
    assert.equal((await call(hub, 'POST', '/api/auth/session/extend', cookie)).status, 401);
  });

  it('lets a viewer read everything and change nothing (403 naming the role needed)', async () => {
    for (const path of ['/api/machines', '/api/tasks', '/api/messages', '/api/auth/whoami']) {
      assert.equal((await call(hub, 'GET', path, viewerCookie)).status, 200, path);
    }
    const task = await hub.api<TaskView>('POST', '/api/tasks', {
      title: 'long one',
      kind: 'command',
      input: { program: node, args: ['-e', 'setTimeout(() => {}, 60000)'] },
    });
    assert.equal(task.status, 201, JSON.stringify(task.body));
    assert.equal((await call(hub, 'GET', `/api/tasks/${task.body.id}`, viewerCookie)).status, 200);

    const refused = [
      await call<ErrorBody>(hub, 'POST', `/api/tasks/${task.body.id}/cancel`, viewerCookie),
      await call<ErrorBody>(hub, 'POST', `/api/tasks/${task.body.id}/retry`, viewerCookie),
      await call<ErrorBody>(hub, 'POST', '/api/messages', viewerCookie, { to: 'people-worker', body: 'hi' }),
      await call<ErrorBody>(hub, 'POST', '/api/tasks', viewerCookie, {
        title: 'not allowed',
        kind: 'command',
        input: { program: node, args: ['-e', '1'] },
      }),
    ];
    for (const res of refused) {
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.code, 'FORBIDDEN');
      assert.equal(res.body.message, 'needs the operator role');
    }
    const asAdmin = await call<ErrorBody>(hub, 'GET', '/api/users', viewerCookie);
    assert.equal(asAdmin.status, 403);
    assert.equal(asAdmin.body.message, 'needs the admin role');
    // Nothing changed: the task still runs.
    const still = await hub.api<TaskView>('GET', `/api/tasks/${task.body.id}`);
    assert.ok(['queued', 'assigned', 'running'].includes(still.body.state), still.body.state);
    await hub.api('POST', `/api/tasks/${task.body.id}/cancel`);
  });

  it('lets an operator create, message and cancel, but not manage machines or people', async () => {
    const created = await call<TaskView>(hub, 'POST', '/api/tasks', operatorCookie, {
      title: 'operator task',
      kind: 'command',
      input: { program: node, args: ['-e', 'setTimeout(() => {}, 60000)'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.createdBy, { kind: 'admin', name: 'otto' });
    const sent = await call(hub, 'POST', '/api/messages', operatorCookie, { to: 'people-worker', body: 'from otto' });
    assert.equal(sent.status, 201);
    const cancelled = await call<TaskView>(hub, 'POST', `/api/tasks/${created.body.id}/cancel`, operatorCookie);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));

    const machine = (await hub.api<Page<{ id: string }>>('GET', '/api/machines')).body.items[0]!;
    const refused = [
      await call<ErrorBody>(hub, 'DELETE', `/api/machines/${machine.id}`, operatorCookie),
      await call<ErrorBody>(hub, 'POST', '/api/join-tokens', operatorCookie, { maxUses: 1 }),
      await call<ErrorBody>(hub, 'POST', '/api/users', operatorCookie, { name: 'sneaky', role: 'admin' }),
      await call<ErrorBody>(hub, 'POST', '/api/llm/circuit-breakers/reset', operatorCookie, {}),
    ];
    for (const res of refused) {
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.message, 'needs the admin role');
    }
    // The machine was not revoked.
    assert.equal((await hub.api<{ status: string }>('GET', `/api/machines/${machine.id}`)).body.status, 'online');
  });

  it("refuses a signed-in change sent from another site's page", async () => {
    const res = await call<ErrorBody>(
      hub,
      'POST',
      '/api/messages',
      operatorCookie,
      { to: 'hub', body: 'x' },
      {
        origin: 'http://evil.example',
      },
    );
    assert.equal(res.status, 403);
    const fetchSite = await call<ErrorBody>(
      hub,
      'POST',
      '/api/messages',
      operatorCookie,
      { to: 'hub', body: 'x' },
      {
        'sec-fetch-site': 'cross-site',
      },
    );
    assert.equal(fetchSite.status, 403);
    // The hub's own page passes (the browser says same-origin).
    const own = await call(
      hub,
      'POST',
      '/api/messages',
      operatorCookie,
      { to: 'hub', body: 'x' },
      {
        'sec-fetch-site': 'same-origin',
        origin: hub.url,
      },
    );
    assert.equal(own.status, 201);
  });

  it('opens the API docs to a signed-in person', async () => {
    assert.equal((await call(hub, 'GET', '/docs/openapi.json', viewerCookie)).status, 200);
    assert.equal((await call(hub, 'GET', '/docs/openapi.json', null)).status, 401);
  });

  it("opens /ws with the session cookie from the hub's own page only", async () => {
    const host = new URL(hub.url).host;
    const own = openSocket(hub, { cookie: viewerCookie, origin: `http://${host}` });
    assert.deepEqual(await own.ready, { kind: 'user', name: 'vera' });
    own.ws.close();
    const foreign = openSocket(hub, { cookie: viewerCookie, origin: 'http://evil.example' });
    assert.equal((await foreign.closed).code, 4403);
    const stale = openSocket(hub, { cookie: 'waggle_session=not-a-session', origin: `http://${host}` });
    assert.equal((await stale.closed).code, 4401);
  });

  it('lets admins manage accounts; passwords and their hashes appear in no list, answer or log line', async () => {
    const admin = await hub.signIn({ name: 'admin', password: hub.adminPassword });
    const made = await call<CreatedUser>(hub, 'POST', '/api/users', admin, { name: 'Gus', role: 'viewer' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const generated = made.body.password!;
    assert.ok(generated.length >= 20);
    assert.equal((await login(hub, 'gus', generated)).status, 200, 'names sign in whatever their case');
    const gusCookie = await hub.signIn({ name: 'Gus', password: generated });

    const taken = await call<ErrorBody>(hub, 'POST', '/api/users', admin, { name: 'GUS', role: 'viewer' });
    assert.equal(taken.status, 409);
    const weak = await call<ErrorBody>(hub, 'POST', '/api/users', admin, {
      name: 'w',
      role: 'viewer',
      password: 'short',
    });
    assert.equal(weak.status, 400);
    assert.match(weak.body.message, /password/);

    const promoted = await call<UserView>(hub, 'PATCH', '/api/users/gus', admin, { role: 'operator' });
    assert.equal(promoted.body.role, 'operator');
    // A role change applies to the session at its next request.
    assert.equal((await call<SessionView>(hub, 'GET', '/api/auth/session', gusCookie)).body.user.role, 'operator');

    const newPassword = 'a new password 42';
    assert.equal((await call(hub, 'PATCH', '/api/users/gus', admin, { password: newPassword })).status, 200);
    assert.equal((await call(hub, 'GET', '/api/tasks', gusCookie)).status, 401, 'a new password ends the sessions');
    assert.equal((await login(hub, 'gus', generated)).status, 401);
    const again = await hub.signIn({ name: 'gus', password: newPassword });

    assert.equal((await call(hub, 'PATCH', '/api/users/gus', admin, { disabled: true })).status, 200);
    assert.equal((await call(hub, 'GET', '/api/tasks', again)).status, 401, 'disabling ends the sessions');
    assert.equal((await login(hub, 'gus', newPassword)).status, 401);

    const page = await call<Page<UserView>>(hub, 'GET', '/api/users?limit=2', admin);
    assert.equal(page.body.items.length, 2);
    assert.ok(page.body.nextCursor);
    const rest = await call<Page<UserView>>(hub, 'GET', `/api/users?cursor=${page.body.nextCursor}`, admin);
    const names = [...page.body.items, ...rest.body.items].map((u) => u.name);
    assert.deepEqual(names, ['admin', 'Gus', 'otto', 'vera']);
    const gus = [...page.body.items, ...rest.body.items].find((u) => u.name === 'Gus')!;
    assert.equal(gus.disabled, true);
    assert.deepEqual(Object.keys(gus).sort(), ['createdAt', 'disabled', 'id', 'lastLoginAt', 'name', 'role']);

    const lastAdmin = await call<ErrorBody>(hub, 'DELETE', '/api/users/admin', admin);
    assert.equal(lastAdmin.status, 409);
    const demote = await call<ErrorBody>(hub, 'PATCH', '/api/users/admin', admin, { role: 'viewer' });
    assert.equal(demote.status, 409);
    assert.equal((await call(hub, 'DELETE', '/api/users/gus', admin)).status, 204);
    assert.equal((await call(hub, 'GET', '/api/users/gus', admin)).status, 404);

    // Nothing the hub answered or logged holds a password or a hash of one.
    const everything = [
      JSON.stringify(page.body),
      JSON.stringify(rest.body),
      JSON.stringify(promoted.body),
      hub.gateway.text(),
    ].join('\n');
    for (const secret of [generated, newPassword, hub.adminPassword, viewer.password, operator.password]) {
      assert.ok(!everything.includes(secret), 'a password leaked');
    }
    assert.ok(!everything.includes('scrypt$'), 'a password hash leaked');
  });

  it('gives API tokens a role too: made with `waggle token create --role`, revoked at once', async () => {
    const admin = { WAGGLE_TOKEN: hub.adminToken, WAGGLE_HUB_URL: hub.url };
    assert.deepEqual((await hub.api('GET', '/api/auth/whoami')).body, { kind: 'token', name: 'admin', role: 'admin' });
    const made = await runCli(['token', 'create', '--role', 'viewer', '--name', 'dashboards', '--json'], admin);
    assert.equal(made.code, 0, made.stderr);
    const viewerToken = (JSON.parse(made.stdout) as CreatedApiToken).token;
    assert.match(viewerToken, /^wgl_api_/);
    const operatorToken = (await hub.api<CreatedApiToken>('POST', '/api/tokens', { name: 'ci', role: 'operator' }))
      .body;

    assert.equal((await hub.api('GET', '/api/machines', undefined, viewerToken)).status, 200);
    const task = { title: 'from ci', kind: 'command', input: { program: node, args: ['-e', '1'] } };
    const refused = await hub.api<ErrorBody>('POST', '/api/tasks', task, viewerToken);
    assert.deepEqual([refused.status, refused.body.message], [403, 'needs the operator role']);
    assert.equal((await hub.api('POST', '/api/tasks', task, operatorToken.token)).status, 201);
    const notAdmin = await hub.api<ErrorBody>('POST', '/api/tokens', { name: 'x', role: 'admin' }, operatorToken.token);
    assert.deepEqual([notAdmin.status, notAdmin.body.message], [403, 'needs the admin role']);

    const listed = await runCli(['token', 'list', '--json'], admin);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes(viewerToken) && !listed.stdout.includes(operatorToken.token));
    const tokens = JSON.parse(listed.stdout) as { id: string; name: string; role: string }[];
    assert.deepEqual(
      tokens.filter((t) => t.name !== 'admin').map((t) => [t.name, t.role]),
      [
        ['ci', 'operator'],
        ['dashboards', 'viewer'],
      ],
    );
    // Used a moment ago (so cached), refused from the revocation's answer on.
    const revoked = await runCli(['token', 'revoke', operatorToken.id], admin);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await hub.api('GET', '/api/machines', undefined, operatorToken.token)).status, 401);
  });

  it('manages accounts with `waggle users`, the password never on the command line', async () => {
    const admin = { WAGGLE_TOKEN: hub.adminToken, WAGGLE_HUB_URL: hub.url };
    const piped = 'piped in password 7';
    const added = await runCliWithStdin(
      ['users', 'add', 'pia', '--role', 'operator', '--password-stdin'],
      admin,
      `${piped}\n`,
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /added pia \(operator\)/);
    assert.ok(!added.stdout.includes(piped));
    assert.equal((await login(hub, 'pia', piped)).status, 200);

    // No terminal and nothing piped: the hub makes a password, printed this once.
    const generated = await runCli(['users', 'add', 'quinn', '--role', 'viewer'], admin);
    assert.equal(generated.code, 0, generated.stderr);
    const quinnPassword = /password \(shown once[^\n]*\n\s+(\S+)/.exec(generated.stdout)?.[1];
    assert.ok(quinnPassword, generated.stdout);
    assert.equal((await login(hub, 'quinn', quinnPassword)).status, 200);

    const badRole = await runCli(['users', 'add', 'rex', '--role', 'root'], admin);
    assert.notEqual(badRole.code, 0);
    assert.match(badRole.stderr, /--role must be one of viewer, operator, admin/);

    const changed = await runCliWithStdin(
      ['users', 'passwd', 'pia', '--password-stdin'],
      admin,
      'another password 8\n',
    );
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal((await login(hub, 'pia', piped)).status, 401);
    assert.equal((await login(hub, 'pia', 'another password 8')).status, 200);

    const role = await runCli(['users', 'role', 'quinn', 'operator'], admin);
    assert.equal(role.code, 0, role.stderr);
    assert.match(role.stdout, /quinn is now operator/);

    const list = await runCli(['users', 'list', '--json'], admin);
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout) as UserView[];
    assert.deepEqual(
      listed.filter((u) => ['pia', 'quinn'].includes(u.name)).map((u) => [u.name, u.role]),
      [
        ['pia', 'operator'],
        ['quinn', 'operator'],
      ],
    );
    const table = await runCli(['users', 'list'], admin);
    assert.match(table.stdout, /NAME.*ROLE.*STATUS/);
    assert.ok(!table.stdout.includes(quinnPassword) && !list.stdout.includes('scrypt$'));

    const removed = await runCli(['users', 'remove', 'quinn'], admin);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await login(hub, 'quinn', quinnPassword)).status, 401);
  });
});

/** Runs `waggle …` with `stdin` piped in, to the end. */
function runCliWithStdin(args: string[], env: Record<string, string>, stdin: string) {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(stdin);
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr })),
  );
}

describe('sessions end when idle, and guessing passwords is throttled', () => {
  let hub: TestHub;

  before(async () => {
    hub = await TestHub.start({
      env: { WAGGLE_SESSION_IDLE_SECONDS: '2', WAGGLE_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE: '8' },
    });
  });
  after(() => hub.stop());

  it('ends a session WAGGLE_SESSION_IDLE_SECONDS after its last request, and closes its socket', async () => {
    const ana = await hub.createUser('ana', 'operator');
    const res = await login(hub, 'ana', ana.password);
    assert.equal(res.body.idleSeconds, 2);
    const cookie = cookieOf(res);
    const socket = openSocket(hub, { cookie });
    await socket.ready;
    // A request extends it: the end moves past the one the sign-in gave.
    const read = await call(hub, 'GET', '/api/machines', cookie);
    const end = Date.parse(read.headers.get('x-waggle-session-expires')!);
    assert.ok(end >= Date.parse(res.body.expiresAt));
    // Nothing more is asked: at the computed instant the session is over.
    await sleep(Math.max(0, end - Date.now()) + 100);
    assert.equal((await call(hub, 'GET', '/api/auth/session', cookie)).status, 401);
    assert.equal((await call(hub, 'GET', '/api/machines', cookie)).status, 401);
    assert.equal((await socket.closed).code, 4401);
  });

  it('answers 429 with Retry-After after five wrong passwords for an account, even to the right one, and past the limit of its address', async () => {
    const bea = await hub.createUser('bea', 'viewer');
    const cid = await hub.createUser('cid', 'viewer');
    await rateWindowWithRoom();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await login(hub, 'bea', `wrong password ${i}`)).status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
    const right = await login(hub, 'bea', bea.password);
    assert.equal(right.status, 429);
    assert.equal(right.body.code, 'RATE_LIMITED');
    const wait = Number(right.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After: ${right.headers.get('retry-after')}`);
    assert.deepEqual(right.headers.getSetCookie(), []);
    // Another account from the same address still signs in: the account's limit is its own…
    assert.equal((await login(hub, 'cid', cid.password)).status, 200);
    // …until the address has failed WAGGLE_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE times, whatever the names.
    for (const name of ['dan', 'eve', 'fay']) {
      assert.equal((await login(hub, name, 'guessed password')).status, 401);
    }
    const fromAddress = await login(hub, 'cid', cid.password);
    assert.equal(fromAddress.status, 429);
    assert.match(fromAddress.body.message, /from this address/);
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    const count = (outcome: string) =>
      Number(
        new RegExp(`^waggle_gateway_sign_ins_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)$`, 'm').exec(
          metrics,
        )?.[1],
      );
    assert.deepEqual([count('refused'), count('throttled')], [8, 2]);
    assert.equal(count('signed_in'), 2);
    // An API token is not held back by failed sign-ins.
    assert.equal((await hub.api('GET', '/api/machines')).status, 200);
  });
});
