import type { Msg, NatsConnection, Subscription } from 'nats';

import type { Constructor, RpcRequest, RpcResponse, RpcSubject } from '@waggle/contracts';
import { machineIdOf } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';

import { serve } from './rpc';

export interface RpcServerOptions {
  queue: string;
  logger: Logger;
  /** Called after each request: for a duration histogram with bounded labels. */
  observe?: (operation: string, outcome: 'ok' | 'error', seconds: number) => void;
}

/** A service's request handlers, in its queue group, timed; closed together at shutdown. */
export class RpcServer {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: RpcServerOptions,
  ) {}

  /** A hub-internal request subject from contracts' RpcMap. */
  handle<S extends RpcSubject>(subject: S, type: Constructor<RpcRequest<S> & object>, handler: (req: RpcRequest<S> & object) => Promise<RpcResponse<S>>) {
    this.add(subject, type, (req) => handler(req), subject.split('.').slice(3).join('.'));
  }

  /** A machine's request on its own `waggle.m.<id>.up.*` subject: the id comes from the subject, which NATS permissions vouch for. */
  handleMachine<Req extends object, Res>(wildcard: string, type: Constructor<Req>, handler: (machineId: string, req: Req) => Promise<Res>) {
    this.add(wildcard, type, (req, msg) => handler(machineIdOf(msg.subject), req), `machine.${wildcard.split('.').slice(4).join('.')}`);
  }

  private add<Req extends object, Res>(subject: string, type: Constructor<Req>, handler: (req: Req, msg: Msg) => Promise<Res>, operation: string) {
    const timed = async (req: Req, msg: Msg) => {
      const started = performance.now();
      let outcome: 'ok' | 'error' = 'error';
      try {
        const result = await handler(req, msg);
        outcome = 'ok';
        return result;
      } finally {
        this.options.observe?.(operation, outcome, (performance.now() - started) / 1000);
      }
    };
    this.subscriptions.push(serve(this.nc, subject, type, timed, { queue: this.options.queue, logger: this.options.logger }));
  }

  /** Nest calls this by name: a subclass registered as a provider closes its handlers at shutdown. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    for (const sub of this.subscriptions) sub.unsubscribe();
    await this.nc.flush().catch(() => undefined);
  }
}
