import 'reflect-metadata';

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { machineTaskRefusal } from './tasks';

describe('what a machine may create through the API', () => {
  const alpha = { id: 'a', name: 'alpha', permissions: ['dispatch'] };

  it('nothing without dispatch', () => {
    assert.match(
      machineTaskRefusal({ ...alpha, permissions: [] }, { kind: 'agent', targetMachineId: null }) ?? '',
      /has not granted it dispatch/,
    );
  });

  it('with dispatch: any agent or github-issue task; shell and command tasks only targeted at itself', () => {
    assert.equal(machineTaskRefusal(alpha, { kind: 'agent', targetMachineId: 'b' }), undefined);
    assert.equal(machineTaskRefusal(alpha, { kind: 'github-issue', targetMachineId: null }), undefined);
    assert.equal(machineTaskRefusal(alpha, { kind: 'shell', targetMachineId: 'a' }), undefined);
    assert.equal(machineTaskRefusal(alpha, { kind: 'command', targetMachineId: 'a' }), undefined);
    for (const kind of ['shell', 'command'] as const) {
      for (const targetMachineId of ['b', null]) {
        assert.match(machineTaskRefusal(alpha, { kind, targetMachineId }) ?? '', /only for itself/);
      }
    }
  });
});
