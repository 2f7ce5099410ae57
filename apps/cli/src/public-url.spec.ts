import assert from 'node:assert/strict';
import type { networkInterfaces } from 'node:os';
import { describe, it } from 'node:test';

import { reachableHubUrl } from './public-url';

type Interfaces = ReturnType<typeof networkInterfaces>;

const lan: Interfaces = {
  lo: [
    {
      address: '127.0.0.1',
      netmask: '255.0.0.0',
      family: 'IPv4',
      mac: '00:00:00:00:00:00',
      internal: true,
      cidr: '127.0.0.1/8',
    },
  ],
  eth0: [
    {
      address: '192.0.2.7',
      netmask: '255.255.255.0',
      family: 'IPv4',
      mac: '02:00:00:00:00:01',
      internal: false,
      cidr: '192.0.2.7/24',
    },
  ],
};

describe('the hub URL printed for other machines', () => {
  it('uses WAGGLE_PUBLIC_URL when set', () => {
    assert.equal(reachableHubUrl('http://127.0.0.1:3000', 'https://hub.example.org/', lan), 'https://hub.example.org');
  });

  it('replaces a loopback host with this machine’s address, keeping the port', () => {
    assert.equal(reachableHubUrl('http://127.0.0.1:3000', undefined, lan), 'http://192.0.2.7:3000');
    assert.equal(reachableHubUrl('http://localhost:4100/', undefined, lan), 'http://192.0.2.7:4100');
  });

  it('keeps a URL that already names a reachable host', () => {
    assert.equal(reachableHubUrl('http://hub.lan:3000', undefined, lan), 'http://hub.lan:3000');
  });

  it('says what to fill in when this machine has no other address', () => {
    assert.equal(reachableHubUrl('http://127.0.0.1:3000', undefined, { lo: lan.lo }), 'http://hub-address:3000');
  });
});
