import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';

import { ErrorCode, WaggleError } from '@waggle/contracts';

import { decodeBody, eventsOfEnvelope, ingestKeyOf } from './envelope';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof WaggleError ? `${e.code}: ${e.message}` : String(e);
  }
  return 'no error';
};

describe('Sentry envelopes', () => {
  it('reads event items by length or by line, in bytes, and skips other items', () => {
    const event = JSON.stringify({ message: 'héllo' });
    const body = Buffer.from(
      `{"event_id":"abc"}\n{"type":"session"}\n{"sid":"1"}\n{"type":"event","length":${Buffer.byteLength(event)}}\n${event}\n{"type":"event"}\n{"message":"two"}\n`,
    );
    assert.deepEqual(eventsOfEnvelope(body), [{ message: 'héllo' }, { message: 'two' }]);
  });

  it('says what is malformed', () => {
    assert.match(codeOf(() => eventsOfEnvelope(Buffer.from('nope'))), /INVALID_INPUT: malformed envelope: the envelope header is not JSON/);
    assert.match(codeOf(() => eventsOfEnvelope(Buffer.from('{}\n{"length":2}\n{}'))), /item 1's header has no type/);
    assert.match(codeOf(() => eventsOfEnvelope(Buffer.from('{}\n{"type":"event"}\n[1]'))), /item 1 \(event\) is not a JSON object/);
  });

  it('decompresses gzip up to the limit and refuses a bomb with 413', () => {
    assert.equal(decodeBody(gzipSync('abc'), 'gzip').toString(), 'abc');
    assert.match(codeOf(() => decodeBody(gzipSync(Buffer.alloc(2 * 1024 * 1024)), 'gzip')), new RegExp(ErrorCode.PayloadTooLarge));
    assert.match(codeOf(() => decodeBody(Buffer.from('plain'), 'gzip')), /not valid gzip/);
    assert.match(codeOf(() => decodeBody(Buffer.from('x'), 'br')), /Content-Encoding br is not read/);
  });

  it('finds the key in X-Sentry-Auth, the query or X-Waggle-Ingest-Key', () => {
    const key = 'a'.repeat(32);
    assert.equal(ingestKeyOf({ 'x-sentry-auth': `Sentry sentry_version=7, sentry_key=${key}, sentry_client=x` }, '/'), key);
    assert.equal(ingestKeyOf({}, `/api/1/envelope/?sentry_version=7&sentry_key=${key}`), key);
    assert.equal(ingestKeyOf({ 'x-waggle-ingest-key': key }, '/api/errors'), key);
    assert.equal(ingestKeyOf({ authorization: 'Bearer x' }, '/'), undefined);
  });
});
