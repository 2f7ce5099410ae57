import type { CustomTransportStrategy, IncomingRequest, OutgoingResponse } from '@nestjs/microservices';
import { NatsContext, Server } from '@nestjs/microservices';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { isObservable, lastValueFrom } from 'rxjs';

import type { Constructor, ErrorBody, RpcReply } from '@waggle/contracts';
import { decode, ErrorCode, requestTypeOf, WaggleError } from '@waggle/contracts';
import { correlationOf, decodeJson, encodeJson, outgoingHeaders, toErrorBody } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { sanitizeCorrelationId, withCorrelation } from '@waggle/observability';

/**
 * Decodes a request or event into the contract class its pattern names (contracts'
 * edges.ts), validating it: a handler only ever sees a checked instance. Throws an
 * INVALID_INPUT WaggleError for anything else.
 */
export class ContractDeserializer {
  constructor(private readonly types: (pattern: string) => Constructor<object> | undefined = requestTypeOf) {}

  deserialize(value: Uint8Array, options: { channel: string; replyTo?: string }): IncomingRequest {
    const type = this.types(options.channel);
    if (!type) {
      throw new WaggleError(ErrorCode.Internal, `no contract class for ${options.channel}`);
    }
    return { pattern: options.channel, data: decode(type, decodeJson(value)), id: options.replyTo ?? '' };
  }
}

/** Nest's response packet → Waggle's reply body (`{ ok, data }` or `{ ok: false, error }`), which every caller reads. */
export class ReplySerializer {
  serialize(packet: OutgoingResponse): Uint8Array {
    const reply: RpcReply<unknown> =
      packet.err !== undefined ? { ok: false, error: packet.err as ErrorBody } : { ok: true, data: packet.response };
    return encodeJson(reply);
  }
}

export interface HubNatsServerOptions {
  /** Queue group: replicas of one service share each subject. */
  queue: string;
  logger: Logger;
}

/** Called after each request or event: for the duration histogram (bounded labels). */
export type ObserveHandling = (operation: string, outcome: 'ok' | 'error', seconds: number) => void;

/** `waggle.rpc.task-router.tasks.claim` → `tasks.claim`; `waggle.m.*.up.task.claim` → `machine.task.claim`. */
export function operationOf(pattern: string): string {
  const tokens = pattern.split('.');
  return tokens[1] === 'm' ? `machine.${tokens.slice(4).join('.')}` : tokens.slice(3).join('.');
}

/**
 * The hub services' Nest transport: `@MessagePattern`/`@EventPattern` handlers served on the
 * service's own NATS connection (the one JetStream uses too), in its queue group. Compared
 * with Nest's stock NATS server it speaks Waggle's wire format (plain JSON payloads, replies
 * as `{ ok, data | error }`), validates every payload against its contract class, carries
 * the correlation id from the headers into the handler and its logs, and times each call.
 */
export class HubNatsServer extends Server implements CustomTransportStrategy {
  private connection?: NatsConnection;
  private observe?: ObserveHandling;
  private readonly subscriptions: Subscription[] = [];
  private readonly contracts = new ContractDeserializer();
  private readonly replies = new ReplySerializer();

  constructor(private readonly options: HubNatsServerOptions) {
    super();
  }

  /** The connection to serve on (the service's own, made by the kit before Nest listens), and where timings go. */
  attach(connection: NatsConnection, observe?: ObserveHandling): void {
    this.connection = connection;
    this.observe = observe;
  }

  listen(callback: (error?: unknown) => void): void {
    const nc = this.connection;
    if (!nc) {
      return callback(new Error('HubNatsServer: attach() a NATS connection before listen()'));
    }
    for (const pattern of this.messageHandlers.keys()) {
      if (!requestTypeOf(pattern)) {
        return callback(new Error(`no contract class names the payload of ${pattern} (libs/contracts edges.ts)`));
      }
      this.subscriptions.push(
        nc.subscribe(pattern, {
          queue: this.options.queue,
          callback: (error, msg) => {
            if (error) {
              this.options.logger.error({ err: error, subject: pattern }, 'subscription error');
            } else {
              void this.receive(pattern, msg);
            }
          },
        }),
      );
    }
    callback();
  }

  close(): Promise<void> {
    for (const sub of this.subscriptions.splice(0)) {
      sub.unsubscribe();
    }
    return this.connection?.flush().catch(() => undefined) ?? Promise.resolve();
  }

  on(): void {
    // Connection events are the kit's: it logs the connection's status itself.
  }

  unwrap<T>(): T {
    return this.connection as T;
  }

  private receive(pattern: string, msg: Msg): Promise<void> {
    const correlationId = sanitizeCorrelationId(correlationOf(msg.headers));
    return withCorrelation(correlationId, async () => {
      const started = performance.now();
      const handler = this.getHandlerByPattern(pattern);
      let outcome: 'ok' | 'error' = 'error';
      try {
        const packet = this.contracts.deserialize(msg.data, { channel: pattern, replyTo: msg.reply });
        const context = new NatsContext([msg.subject, msg.headers]);
        if (!handler) {
          throw new WaggleError(ErrorCode.Internal, `no handler for ${pattern}`);
        }
        const result: unknown = await handler(packet.data, context);
        // Nest hands back an observable; its error is the filter's error body.
        const response: unknown = isObservable(result)
          ? await lastValueFrom(result, { defaultValue: undefined })
          : result;
        outcome = 'ok';
        this.respond(msg, correlationId, { response, id: packet.id });
      } catch (error) {
        const body = isErrorBody(error) ? error : toErrorBody(error, this.options.logger, pattern);
        if (!msg.reply) {
          this.options.logger.warn({ subject: msg.subject, error: body }, 'event not handled');
        }
        this.respond(msg, correlationId, { err: body, id: msg.reply ?? '' });
      } finally {
        this.observe?.(operationOf(pattern), outcome, (performance.now() - started) / 1000);
      }
    });
  }

  private respond(msg: Msg, correlationId: string, packet: OutgoingResponse): void {
    if (msg.reply) {
      msg.respond(this.replies.serialize(packet), { headers: outgoingHeaders(undefined, correlationId) });
    }
  }
}

/** What RpcErrorFilter turns every handler error into. */
export function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    'code' in value &&
    'message' in value &&
    Object.values(ErrorCode).includes((value as ErrorBody).code)
  );
}
