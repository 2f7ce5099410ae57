import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { NatsConnection } from 'nats';

import type { Logger } from '@waggle/observability';

import type { AnsweredRequest } from './activity.publisher';
import { ActivityPublisher } from './activity.publisher';

const publisher = new ActivityPublisher({} as NatsConnection, {} as Logger);
const request = (over: Partial<AnsweredRequest> & { principal?: unknown } = {}) => ({
  method: 'POST',
  url: '/api/projects?dry=1',
  ip: '10.1.2.3',
  id: 'req-1',
  routeOptions: { url: '/api/projects' },
  ...over,
});
const admin = { kind: 'token', role: 'admin', tokenId: 'tok-1', name: 'ops' };

describe('activity records', () => {
  it('records a change: who, what, when, from where, without the query string', () => {
    const record = publisher.recordOf(request({ principal: admin }), 201, new Date('2026-11-29T10:00:00Z'));
    assert.deepEqual(
      { ...record, id: undefined },
      {
        v: 1,
        id: undefined,
        at: '2026-11-29T10:00:00.000Z',
        actor: { kind: 'token', name: 'ops', id: 'tok-1' },
        address: '10.1.2.3',
        method: 'POST',
        route: '/api/projects',
        path: '/api/projects',
        status: 201,
        requestId: 'req-1',
      },
    );
    assert.match(record!.id, /^[0-9a-f-]{36}$/);
  });

  it('names a machine by its id', () => {
    const record = publisher.recordOf(
      request({ principal: { kind: 'machine', machineId: 'm-1', name: 'pi' }, method: 'DELETE' }),
      200,
    );
    assert.deepEqual(record?.actor, { kind: 'machine', name: 'pi', id: 'm-1' });
  });

  it('leaves out reads, routes outside /api, and refusals of callers who proved nothing', () => {
    assert.equal(publisher.recordOf(request({ method: 'GET', principal: admin }), 200), undefined);
    assert.equal(publisher.recordOf(request({ url: '/v1/chat/completions', principal: admin }), 200), undefined);
    assert.equal(publisher.recordOf(request(), 401), undefined);
    assert.equal(publisher.recordOf(request(), 201)?.actor.kind, 'anonymous', 'a public route that changed something');
    assert.equal(publisher.recordOf(request({ principal: admin }), 409)?.status, 409, 'a refused change by someone');
  });
});
