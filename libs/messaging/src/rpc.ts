import type { Msg, NatsConnection, Subscription } from 'nats';
import { ErrorCode as NatsErrorCode } from 'nats';

import type {
  Constructor,
  ErrorBody,
  MachineReplyOf,
  MachineRequestName,
  MachineRequestOf,
  RpcReply,
  RpcRequest,
  RpcResponse,
  RpcSubject,
} from '@waggle/contracts';
import { decode, ErrorCode, machineRequestSubject, WaggleError } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import { sanitizeCorrelationId, withCorrelation } from '@waggle/observability';

import { correlationOf, decodeJson, encodeJson, outgoingHeaders } from './codec';

/** Default for every request: Nest's NATS client sets none; ours always does. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

function natsFailure(error: unknown, subject: string): WaggleError {
  const code = (error as { code?: string }).code;
  if (code === NatsErrorCode.NoResponders) {
    return new WaggleError(ErrorCode.Unavailable, `no service is answering ${subject}`);
  }
  if (code === NatsErrorCode.Timeout) {
    return new WaggleError(ErrorCode.Timeout, `no answer on ${subject} in time`);
  }
  return new WaggleError(ErrorCode.Unavailable, `request on ${subject} failed: ${String(error)}`);
}

/** Sends a request and returns its data, or throws the WaggleError the service replied with. */
export async function request<T>(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<T> {
  let reply: Msg;
  try {
    reply = await nc.request(subject, encodeJson(payload), { timeout: timeoutMs, headers: outgoingHeaders() });
  } catch (error) {
    throw natsFailure(error, subject);
  }
  const body = decodeJson(reply.data) as RpcReply<T> | undefined;
  if (!body || typeof body !== 'object' || !('ok' in body)) {
    throw new WaggleError(ErrorCode.Internal, `malformed reply on ${subject}`);
  }
  if (!body.ok) {
    throw WaggleError.fromBody(body.error);
  }
  return body.data;
}

/** Typed client for the hub-internal request subjects in contracts' RpcMap. */
export class RpcClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {}

  call<S extends RpcSubject>(subject: S, payload: RpcRequest<S>, timeoutMs = this.timeoutMs): Promise<RpcResponse<S>> {
    return request<RpcResponse<S>>(this.nc, subject, payload, timeoutMs);
  }
}

export interface ServeOptions {
  queue?: string;
  logger: Logger;
}

export type RpcHandler<Req, Res> = (request: Req, msg: Msg) => Promise<Res>;

/**
 * A handler's error as the caller sees it: a WaggleError's own body; anything else is a bug,
 * logged with an error id that the reply carries (never the internal text).
 */
export function toErrorBody(error: unknown, logger: Logger, subject?: string): ErrorBody {
  if (error instanceof WaggleError) {
    return error.toBody();
  }
  const errorId = crypto.randomUUID();
  logger.error({ err: error, errorId, subject }, 'request handler failed');
  return { code: ErrorCode.Internal, message: `internal error (error id ${errorId})`, details: { errorId } };
}

/**
 * Answers requests on `subject`: decodes and validates the payload into `type` (never a
 * cast), runs the handler inside the caller's correlation id, and replies with data or
 * an error body. Replicas share the subject through the queue group.
 */
export function serve<Req extends object, Res>(
  nc: NatsConnection,
  subject: string,
  type: Constructor<Req>,
  handler: RpcHandler<Req, Res>,
  options: ServeOptions,
): Subscription {
  return nc.subscribe(subject, {
    queue: options.queue,
    callback: (err, msg) => {
      if (err) {
        options.logger.error({ err, subject }, 'subscription error');
        return;
      }
      const correlationId = sanitizeCorrelationId(correlationOf(msg.headers));
      void withCorrelation(correlationId, async () => {
        let reply: RpcReply<Res>;
        try {
          const payload = decode(type, decodeJson(msg.data));
          reply = { ok: true, data: await handler(payload, msg) };
        } catch (error) {
          reply = { ok: false, error: toErrorBody(error, options.logger, subject) };
        }
        if (msg.reply) {
          msg.respond(encodeJson(reply), { headers: outgoingHeaders(undefined, correlationId) });
        }
      });
    },
  });
}

/** A machine's request to the hub on its own subject, typed by contracts' MachineRequestMap. */
export function machineRequest<N extends MachineRequestName>(
  nc: NatsConnection,
  name: N,
  machineId: string,
  payload: MachineRequestOf<N>,
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<MachineReplyOf<N>> {
  return request<MachineReplyOf<N>>(nc, machineRequestSubject(name, machineId), payload, timeoutMs);
}
