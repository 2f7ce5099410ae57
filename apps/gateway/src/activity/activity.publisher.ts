import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { headers as natsHeaders } from 'nats';
import type { NatsConnection } from 'nats';

import type { ActivityRecord } from '@waggle/contracts';
import { ACTIVITY_SUBJECT, Headers } from '@waggle/contracts';
import { encodeJson } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, NATS } from '@waggle/service-kit';

import type { Principal } from '../auth/principal';
import { INGEST_PATH } from '../error-groups/envelope';

/** What of an answered request the log reads (Fastify's request has these). */
export interface AnsweredRequest {
  method: string;
  url: string;
  ip: string;
  id: unknown;
  routeOptions: { url?: string };
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Tells the tracker about every change made through the API: who (the credential), what
 * (method, route, path, status), when, from which address. Never the body: it may hold
 * secrets. Published on JetStream with a message id, so a retry is not logged twice;
 * the request has been answered already, so a publish that fails is logged, not retried.
 */
@Injectable()
export class ActivityPublisher {
  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** What of a request goes into the log: a change through /api, by someone who proved who they are (or that succeeded). */
  recordOf(request: AnsweredRequest, status: number, at = new Date()): ActivityRecord | undefined {
    const path = request.url.split('?', 1)[0] ?? '';
    if (!MUTATING.has(request.method) || !path.startsWith('/api/')) {
      return undefined;
    }
    const principal = (request as AnsweredRequest & { principal?: Principal }).principal;
    if (!principal && (INGEST_PATH.test(request.url) || path === '/api/errors')) {
      return undefined; // error ingestion (an ingest key, thousands a second) is not a change anyone made
    }
    if (!principal && status >= 400) {
      return undefined; // a refused attempt without a credential is the auth throttle's business, not history
    }
    return {
      v: 1,
      id: randomUUID(),
      at: at.toISOString(),
      actor: principal
        ? {
            kind: principal.kind,
            name: principal.name,
            id:
              principal.kind === 'machine'
                ? principal.machineId
                : principal.kind === 'user'
                  ? principal.userId
                  : principal.tokenId,
          }
        : { kind: 'anonymous', name: 'anonymous', id: null },
      address: request.ip.slice(0, 100),
      method: request.method,
      route: (request.routeOptions.url ?? 'unmatched').slice(0, 300),
      path: path.slice(0, 2000),
      status,
      requestId: String(request.id).slice(0, 200),
    };
  }

  record(request: AnsweredRequest, status: number): void {
    const record = this.recordOf(request, status);
    if (!record || this.nc.isClosed()) {
      return;
    }
    const h = natsHeaders();
    h.set(Headers.msgId, record.id);
    h.set(Headers.correlationId, record.requestId);
    this.nc
      .jetstream()
      .publish(ACTIVITY_SUBJECT, encodeJson(record), { msgID: record.id, headers: h, timeout: 5_000 })
      .catch((error: unknown) =>
        this.logger.warn({ err: error, route: record.route, requestId: record.requestId }, 'activity not recorded'),
      );
  }
}
