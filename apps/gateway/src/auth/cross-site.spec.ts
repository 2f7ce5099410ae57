import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isCrossSite } from './cross-site';

describe('isCrossSite', () => {
  it("trusts the browser's Sec-Fetch-Site when it is sent", () => {
    assert.equal(isCrossSite({ 'sec-fetch-site': 'same-origin', origin: 'http://evil.example' }, undefined), false);
    assert.equal(isCrossSite({ 'sec-fetch-site': 'none' }, undefined), false);
    assert.equal(isCrossSite({ 'sec-fetch-site': 'same-site', host: 'hub:3000' }, undefined), true);
    assert.equal(isCrossSite({ 'sec-fetch-site': 'cross-site', host: 'hub:3000' }, undefined), true);
  });

  it('else compares Origin with the host asked for, or the public address behind a proxy', () => {
    assert.equal(isCrossSite({ origin: 'http://hub:3000', host: 'hub:3000' }, undefined), false);
    assert.equal(isCrossSite({ origin: 'http://evil.example', host: 'hub:3000' }, undefined), true);
    assert.equal(
      isCrossSite({ origin: 'https://waggle.example.org', host: '127.0.0.1:3000' }, 'https://waggle.example.org/'),
      false,
    );
    assert.equal(isCrossSite({ origin: 'null', host: 'hub:3000' }, undefined), true);
  });

  it('takes a request without either header for what it is: not a browser page of another site', () => {
    assert.equal(isCrossSite({ host: 'hub:3000' }, undefined), false);
  });
});
