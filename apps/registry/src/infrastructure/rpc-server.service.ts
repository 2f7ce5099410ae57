import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { Msg, NatsConnection, Subscription } from 'nats';

import type { Constructor, RpcRequest, RpcResponse, RpcSubject } from '@waggle/contracts';
import { machineIdOf, QueueGroups } from '@waggle/contracts';
import { serve } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

import { RegistryMetrics } from './registry.metrics';
import { LOGGER, NATS } from './tokens';

/** Registers the registry's request handlers in its queue group, timed, and drains them on shutdown. */
@Injectable()
export class RpcServerService implements OnApplicationShutdown {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: RegistryMetrics,
  ) {}

  /** A hub-internal request subject from contracts' RpcMap. */
  handle<S extends RpcSubject>(subject: S, type: Constructor<RpcRequest<S> & object>, handler: (req: RpcRequest<S> & object) => Promise<RpcResponse<S>>) {
    const operation = subject.replace('waggle.rpc.registry.', '');
    this.add(subject, type, (req) => handler(req), operation);
  }

  /** A machine's request on its own `waggle.m.<id>.up.*` subject: the id comes from the subject, which NATS permissions vouch for. */
  handleMachine<Req extends object, Res>(wildcard: string, type: Constructor<Req>, handler: (machineId: string, req: Req) => Promise<Res>) {
    const operation = `machine.${wildcard.split('.').at(-1)}`;
    this.add(wildcard, type, (req, msg) => handler(machineIdOf(msg.subject), req), operation);
  }

  private add<Req extends object, Res>(subject: string, type: Constructor<Req>, handler: (req: Req, msg: Msg) => Promise<Res>, operation: string) {
    const timed = async (req: Req, msg: Msg) => {
      const end = this.metrics.rpcSeconds.startTimer({ operation });
      try {
        const result = await handler(req, msg);
        end({ outcome: 'ok' });
        return result;
      } catch (error) {
        end({ outcome: 'error' });
        throw error;
      }
    };
    this.subscriptions.push(serve(this.nc, subject, type, timed, { queue: QueueGroups.registry, logger: this.logger }));
  }

  async onApplicationShutdown() {
    for (const sub of this.subscriptions) sub.unsubscribe();
    await this.nc.flush().catch(() => undefined);
  }
}
