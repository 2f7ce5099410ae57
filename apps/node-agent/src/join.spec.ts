import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { reachableNatsUrl } from './join';

describe('reachableNatsUrl', () => {
  it('replaces a loopback NATS host with the host the hub was reached by', () => {
    assert.equal(reachableNatsUrl('nats://127.0.0.1:4222', 'http://hub.lan:3000'), 'nats://hub.lan:4222');
    assert.equal(
      reachableNatsUrl('nats://localhost:4222,nats://10.0.0.2:4222', 'http://100.64.1.2:3000'),
      'nats://100.64.1.2:4222,nats://10.0.0.2:4222',
    );
  });

  it('keeps an announced public host, and loopback when the hub is local too', () => {
    assert.equal(
      reachableNatsUrl('nats://nats.example.net:4222', 'http://hub.lan:3000'),
      'nats://nats.example.net:4222',
    );
    assert.equal(reachableNatsUrl('nats://127.0.0.1:4222', 'http://127.0.0.1:3000'), 'nats://127.0.0.1:4222');
  });
});
