import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { RpcReply } from '@waggle/contracts';
import {
  ErrorCode,
  MachineWildcards,
  RegistryRpc,
  TaskLeaseRequest,
  TaskRouterRpc,
  WaggleError,
} from '@waggle/contracts';
import { decodeJson, encodeJson } from '@waggle/messaging';

import { ContractDeserializer, isErrorBody, operationOf, ReplySerializer } from './hub-nats.server';

describe('the hub transport', () => {
  it('names operations by their pattern, never by a machine id', () => {
    assert.equal(operationOf(TaskRouterRpc.create), 'tasks.create');
    assert.equal(operationOf(RegistryRpc.verifyMachineToken), 'machines.verify-token');
    assert.equal(operationOf(MachineWildcards.taskClaim), 'machine.task.claim');
    assert.equal(operationOf(MachineWildcards.heartbeat), 'machine.heartbeat');
  });

  it('decodes a payload into the contract class its pattern names', () => {
    const packet = new ContractDeserializer().deserialize(
      encodeJson({ v: 1, taskId: '0b6f1c1e-6d8a-4bb4-9a39-6a5c0d3b1f7a', attempt: 2 }),
      {
        channel: MachineWildcards.taskClaim,
        replyTo: '_INBOX.1',
      },
    );
    assert.ok(packet.data instanceof TaskLeaseRequest);
    assert.equal(packet.pattern, MachineWildcards.taskClaim);
    assert.equal(packet.id, '_INBOX.1');
  });

  it('refuses a payload that breaks its contract, naming the fields', () => {
    const deserializer = new ContractDeserializer();
    const invalid = (payload: Uint8Array) => {
      try {
        deserializer.deserialize(payload, { channel: MachineWildcards.taskClaim });
      } catch (error) {
        assert.ok(error instanceof WaggleError);
        return error;
      }
      assert.fail('accepted an invalid payload');
    };
    const wrong = invalid(encodeJson({ v: 1, taskId: 'nope', attempt: 0, extra: true }));
    assert.equal(wrong.code, ErrorCode.InvalidInput);
    const fields = (wrong.details as { fields: { field: string }[] }).fields.map((f) => f.field).sort();
    assert.deepEqual(fields, ['attempt', 'extra', 'taskId']);
    assert.equal(invalid(new TextEncoder().encode('{')).code, ErrorCode.InvalidInput);
  });

  it('knows no class for a pattern the contracts do not name', () => {
    assert.throws(
      () => new ContractDeserializer().deserialize(encodeJson({}), { channel: 'waggle.rpc.nobody.nothing' }),
      /no contract class/,
    );
  });

  it('replies in the shape every caller reads', () => {
    const serializer = new ReplySerializer();
    assert.deepEqual(decodeJson(serializer.serialize({ response: { id: 1 }, id: 'x' })), {
      ok: true,
      data: { id: 1 },
    } satisfies RpcReply<unknown>);
    const error = { code: ErrorCode.NotFound, message: 'no such task' };
    assert.deepEqual(decodeJson(serializer.serialize({ err: error, id: 'x' })), { ok: false, error });
    assert.ok(isErrorBody(error));
    assert.ok(!isErrorBody({ code: 'SOMETHING', message: 'not ours' }));
    assert.ok(!isErrorBody(new Error('boom')));
  });
});
