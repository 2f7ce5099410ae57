import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import type { ErrorBody } from '@waggle/contracts';
import { eventually, present, TestHub } from '@waggle/testing';

interface FieldErrors {
  fields: { field: string; errors: string[] }[];
}

interface RequestLine {
  msg: string;
  level: number;
  method: string;
  route: string;
  status: number;
  durationMs: number;
  requestId: string;
}

/** The gateway's JSON log lines (its output is a pipe, so pino writes JSON). */
function logLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const requestLine = (hub: TestHub, requestId: string) =>
  logLines(hub.gateway.text()).find((line) => line.msg === 'request' && line.requestId === requestId) as
    RequestLine | undefined;

/** What every response carries (helmet), what the log records of each request, and the contracts' rules at the HTTP edge. */
describe('the gateway edge', () => {
  let hub: TestHub;

  before(async () => {
    hub = await TestHub.start();
  });
  after(() => hub.stop());

  it('sends security headers on API responses; the visor runs no inline script and its assets are cached', async () => {
    const api = await fetch(`${hub.url}/api/machines`, { headers: { authorization: `Bearer ${hub.adminToken}` } });
    assert.equal(api.status, 200);
    assert.equal(api.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(api.headers.get('x-frame-options'), 'DENY');
    assert.equal(api.headers.get('referrer-policy'), 'no-referrer');
    assert.match(api.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);

    for (const route of ['/', '/machines', '/tasks/00000000-0000-4000-8000-000000000000', '/sign-in']) {
      const page = await fetch(`${hub.url}${route}`);
      assert.equal(page.status, 200, route);
      assert.equal(page.headers.get('cache-control'), 'no-cache', route);
      assert.match(await page.text(), /<div id="root">/, route);
    }
    const page = await fetch(`${hub.url}/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /script-src-attr 'none'/);
    // Style elements may be inline (Mantine and xterm.js write their themes into <style> at run time); style attributes may not.
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /style-src-elem 'self' 'unsafe-inline'/);
    assert.match(csp, /style-src-attr 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    const html = await page.text();
    assert.doesNotMatch(
      html,
      /<script>|<style>|\sstyle="|\son[a-z]+="/,
      'the page has nothing inline the policy would block',
    );
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(
      assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')),
      'a script and a stylesheet',
    );
    for (const asset of assets) {
      const res = await fetch(`${hub.url}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(res.status, 200, asset);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.match(res.headers.get('cache-control') ?? '', /max-age=31536000.*immutable/, asset);
      assert.equal(res.headers.get('content-encoding'), 'gzip', asset);
    }
    // API paths are not client routes: an unknown one is a JSON 404, not the page.
    const unknown = await fetch(`${hub.url}/api/nothing-here`, {
      headers: { authorization: `Bearer ${hub.adminToken}` },
    });
    assert.equal(unknown.status, 404);
    assert.match(unknown.headers.get('content-type') ?? '', /json/);
  });

  it('keeps /docs behind sign-in: a bearer token, or Basic (the browser asks), and says so with WWW-Authenticate', async () => {
    const basic = (token: string) => `Basic ${Buffer.from(`any:${token}`).toString('base64')}`;
    for (const path of ['/docs', '/docs/', '/docs/openapi.json', '/docs-yaml', '/docs/swagger-ui-init.js']) {
      const res = await fetch(`${hub.url}${path}`);
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm="Waggle API docs"/, path);
      assert.equal(((await res.json()) as ErrorBody).code, 'UNAUTHENTICATED');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', 'a refusal carries the headers too');
      const wrong = await fetch(`${hub.url}${path}`, { headers: { authorization: basic('wgl_adm_wrong') } });
      assert.equal(wrong.status, 401, path);
    }
    const json = await fetch(`${hub.url}/docs/openapi.json`, {
      headers: { authorization: `Bearer ${hub.adminToken}` },
    });
    assert.equal(json.status, 200);
    assert.ok(((await json.json()) as { paths: Record<string, unknown> }).paths['/api/tasks']);
    const page = await fetch(`${hub.url}/docs/`, { headers: { authorization: basic(hub.adminToken) } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /swagger-ui/);
    // Swagger UI's page alone may use inline styles; no page runs inline script.
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /style-src 'self' 'unsafe-inline'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');

    // A gateway started with WAGGLE_PUBLIC_DOCS=true serves them to anyone.
    const open = await hub.startGateway({ WAGGLE_PUBLIC_DOCS: 'true' });
    assert.equal((await fetch(`${open.url}/docs/openapi.json`)).status, 200);
    assert.equal((await fetch(`${open.url}/api/machines`)).status, 401, 'only the docs');
    await open.process.kill();
  });

  it('writes one structured log line per request: method, route pattern, status, duration, request id', async () => {
    const requestId = `edge-${randomUUID()}`;
    const res = await fetch(`${hub.url}/api/machines/no-such-machine`, {
      headers: { authorization: `Bearer ${hub.adminToken}`, 'x-request-id': requestId },
    });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('x-request-id'), requestId);
    const line = await eventually(() => {
      const found = requestLine(hub, requestId);
      assert.ok(found, 'request line logged');
      return found;
    });
    assert.equal(line.method, 'GET');
    assert.equal(line.route, '/api/machines/:id', 'the route pattern, not the URL');
    assert.equal(line.status, 404);
    assert.equal(typeof line.durationMs, 'number');
  });

  it('logs health probes at debug level only, so they do not flood the log', async () => {
    const probeId = `probe-${randomUUID()}`;
    assert.equal((await fetch(`${hub.url}/health`, { headers: { 'x-request-id': probeId } })).status, 200);
    const laterId = `later-${randomUUID()}`;
    await fetch(`${hub.url}/api/auth/whoami`, {
      headers: { authorization: `Bearer ${hub.adminToken}`, 'x-request-id': laterId },
    });
    // Lines are written in order: once the later request's line is there, the probe's would be too.
    await eventually(() => assert.ok(requestLine(hub, laterId)));
    assert.equal(requestLine(hub, probeId), undefined, 'the gateway runs at info level: no line for /health');
  });

  it("refuses a body that breaks the contract's rule with 400, naming the field", async () => {
    // TaskInput's limit on each argument: a rule the gateway's own copy of the task shape did not have.
    const res = await hub.api<ErrorBody>('POST', '/api/tasks', {
      title: 'too long',
      kind: 'command',
      input: { program: 'echo', args: ['x'.repeat(100_001)] },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'INVALID_INPUT');
    const fields = (res.body.details as FieldErrors).fields;
    assert.deepEqual(
      fields.map((f) => f.field),
      ['input.args'],
    );
    assert.match(present(fields[0], 'the field error').errors.join(' '), /100000/);
    assert.match(res.body.message, /input\.args/);
  });
});
