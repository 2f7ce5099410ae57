import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formsOf, SecretMask } from './secret-mask';

describe('SecretMask', () => {
  const value = 'p@ss/w0rd+é?&=';
  const mask = new SecretMask([{ name: 'db', value }], ['agent-token']);

  it('masks the value as is, in base64 (alone or inside a longer string), URL-encoded and hex', () => {
    for (const prefix of ['', 'u', 'us', 'usr']) {
      const inside = Buffer.from(`${prefix}${value}`).toString('base64');
      assert.ok(mask.apply(inside).includes('[secret:db]'), `base64 after ${prefix.length} bytes`);
      assert.ok(!mask.apply(inside).includes(Buffer.from(value).toString('base64').slice(4, -4)));
    }
    assert.equal(mask.apply(`x ${value} y`), 'x [secret:db] y');
    assert.equal(mask.apply(encodeURIComponent(value)), '[secret:db]');
    assert.equal(mask.apply(Buffer.from(value).toString('hex')), '[secret:db]');
    assert.equal(mask.apply('token agent-token'), 'token [redacted]');
    assert.deepEqual(mask.applyJson({ a: [value], [value]: 1, n: 2 }), { a: ['[secret:db]'], '[secret:db]': 1, n: 2 });
    const quoted = new SecretMask([{ name: 'q', value: 'a"b\\c' }]);
    assert.deepEqual(quoted.applyJson({ v: 'x a"b\\c y' }), { v: 'x [secret:q] y' });
    assert.equal(quoted.apply(JSON.stringify({ v: 'a"b\\c' })), '{"v":"[secret:q]"}');
  });

  it('holds back enough output to see a value cut in two', () => {
    assert.ok(mask.holdBack >= Math.max(...formsOf(value).map((f) => f.length)) - 1);
    assert.equal(new SecretMask([]).holdBack, 0);
  });
});
