import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { refusal } from './auth.guard';
import type { Principal } from './principal';

const token = (role: 'viewer' | 'operator' | 'admin'): Principal => ({ kind: 'token', role, tokenId: 't', name: 'n' });
const machine: Principal = { kind: 'machine', machineId: 'm', name: 'm' };

describe('refusal (who a route admits)', () => {
  it('admits the role a route names and every role above it', () => {
    assert.equal(refusal(['viewer', 'machine'], token('viewer')), undefined);
    assert.equal(refusal(['viewer', 'machine'], token('admin')), undefined);
    assert.equal(refusal(['operator'], token('operator')), undefined);
    assert.equal(refusal(['operator'], token('admin')), undefined);
    assert.equal(refusal(['admin'], token('admin')), undefined);
  });

  it('names the lowest role needed when a role falls short', () => {
    assert.equal(refusal(['operator', 'machine'], token('viewer')), 'needs the operator role');
    assert.equal(refusal(['admin'], token('operator')), 'needs the admin role');
    // Listing several roles means the lowest of them.
    assert.equal(refusal(['admin', 'operator'], token('viewer')), 'needs the operator role');
  });

  it('admits machines only where a route says so, whatever roles it names', () => {
    assert.equal(refusal(['viewer', 'machine'], machine), undefined);
    assert.equal(refusal(['viewer'], machine), "a machine's credential cannot do this");
    assert.equal(refusal(['machine'], token('admin')), 'only machines may do this');
  });
});
