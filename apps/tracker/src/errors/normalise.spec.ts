import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { framesOfText, normaliseMessage, normaliseSentryEvent, scrub, scrubText } from './normalise';

const exception = (frames: object[], type = 'TypeError', value = 'x is undefined') => ({
  exception: { values: [{ type, value, stacktrace: { frames } }] },
});
const frame = (fn: string, module: string, lineno: number, inApp = true) => ({
  function: fn,
  module,
  filename: `/home/u/app/${module}.js`,
  lineno,
  in_app: inApp,
});

describe('grouping', () => {
  it('groups by exception type and in-app frames, not line numbers, paths or library frames', () => {
    const a = normaliseSentryEvent(exception([frame('lib', 'express', 1, false), frame('load', 'cart', 10)]));
    const b = normaliseSentryEvent(exception([frame('lib2', 'express', 9, false), frame('load', 'cart', 99)]));
    assert.equal(a.fingerprint, b.fingerprint);
    const otherType = normaliseSentryEvent(exception([frame('load', 'cart', 10)], 'RangeError'));
    const otherFunction = normaliseSentryEvent(exception([frame('save', 'cart', 10)]));
    assert.notEqual(a.fingerprint, otherType.fingerprint);
    assert.notEqual(a.fingerprint, otherFunction.fingerprint);
    assert.equal(a.culprit, 'load (cart)');
    assert.equal(a.title, 'TypeError: x is undefined');
  });

  it('falls back to the normalised message; a client fingerprint wins', () => {
    const m1 = normaliseSentryEvent({ message: 'user 42 not found in /var/data/users.db (id 0xdeadbeef)' });
    const m2 = normaliseSentryEvent({ message: 'user 7 not found in /srv/other/users.db (id 0xfeedface)' });
    assert.equal(m1.fingerprint, m2.fingerprint);
    assert.notEqual(m1.fingerprint, normaliseSentryEvent({ message: 'user 42 was deleted' }).fingerprint);
    const c1 = normaliseSentryEvent({ ...exception([frame('a', 'x', 1)]), fingerprint: ['payments'] });
    const c2 = normaliseSentryEvent({ ...exception([frame('b', 'y', 1)]), fingerprint: ['payments'] });
    assert.equal(c1.fingerprint, c2.fingerprint);
    const d1 = normaliseSentryEvent({ ...exception([frame('a', 'x', 1)]), fingerprint: ['{{ default }}', 'eu'] });
    const d2 = normaliseSentryEvent({ ...exception([frame('a', 'x', 1)]), fingerprint: ['{{ default }}', 'us'] });
    assert.notEqual(d1.fingerprint, d2.fingerprint);
  });

  it('normalises numbers, ids, hex, paths, URLs and e-mails', () => {
    assert.equal(
      normaliseMessage('job 3f2a9c1e-1b2c-4d5e-8f90-123456789abc failed after 12.5s at https://x.io/a?b=1 for a@b.io'),
      'job <id> failed after <n>s at <url> for <email>',
    );
    assert.equal(normaliseMessage('cannot open C:\\Users\\ana\\x.txt or /tmp/a/b'), 'cannot open <path> or <path>');
    assert.equal(normaliseMessage('commit 9fceb02d0ae598e95dc970b74767f19372d61af8 missing'), 'commit <hex> missing');
  });
});

describe('scrubbing', () => {
  it('replaces secret-looking keys anywhere, and secrets inside text', () => {
    const out = scrub({
      headers: { Authorization: 'Bearer abc.def.ghi', 'X-Api-Key': 'k', Accept: 'json' },
      form: { password: 'hunter2', user_password: 'x', name: 'ana' },
      nested: [{ accessToken: 't' }],
      note: 'called with Bearer abcdefghijkl and ghp_abcdefghijklmnopqrstuvwxyz0123',
      url: 'https://api.example/x?token=abc123&page=2',
    }) as Record<string, Record<string, unknown>>;
    assert.deepEqual(out.headers, { Authorization: '[Filtered]', 'X-Api-Key': '[Filtered]', Accept: 'json' });
    assert.deepEqual(out.form, { password: '[Filtered]', user_password: '[Filtered]', name: 'ana' });
    assert.deepEqual(out.nested, [{ accessToken: '[Filtered]' }]);
    assert.equal(out.note, 'called with Bearer [Filtered] and [Filtered]');
    assert.equal(out.url, 'https://api.example/x?token=[Filtered]&page=2');
    assert.equal(scrubText('postgres://app:s3cret@db/x'), 'postgres://app:[Filtered]@db/x');
  });

  it("keeps cookies' names only and request headers scrubbed in the event", () => {
    const e = normaliseSentryEvent({
      message: 'x',
      request: { url: '/a', headers: [['Cookie', 'sid=1'], ['User-Agent', 'curl']], cookies: { sid: 'abc' } },
    });
    assert.deepEqual(e.context.request, {
      url: '/a',
      headers: { Cookie: '[Filtered]', 'User-Agent': 'curl' },
      cookies: { sid: '[Filtered]' },
    });
  });
});

describe('reading', () => {
  it('reads V8 and Python stack text outermost first', () => {
    const v8 = framesOfText('Error: x\n    at inner (/app/a.js:1:2)\n    at outer (/app/node_modules/b.js:3:4)');
    assert.deepEqual(
      v8.map((f) => [f.function, f.inApp]),
      [
        ['outer', false],
        ['inner', true],
      ],
    );
    const py = framesOfText('Traceback:\n  File "/a.py", line 1, in main\n  File "/a.py", line 5, in run\nValueError');
    assert.deepEqual(
      py.map((f) => f.function),
      ['main', 'run'],
    );
  });

  it('bounds what it keeps and ignores nonsense', () => {
    const e = normaliseSentryEvent({
      event_id: 'not-an-id',
      level: 'loud',
      timestamp: 'yesterday-ish',
      tags: Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`t${i}`, i])),
      exception: { values: 'nope' },
      message: 'x'.repeat(20_000),
    });
    assert.match(e.id, /^[0-9a-f]{32}$/);
    assert.equal(e.level, 'error');
    assert.equal(Object.keys(e.tags).length, 50);
    assert.equal(e.exceptions.length, 0);
    assert.ok(e.message.length <= 8001);
  });
});
