import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';

import { QueueGroups } from '@waggle/contracts';
import { RpcServer } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

import { RegistryMetrics } from './registry.metrics';
import { LOGGER, NATS } from './tokens';

/** The registry's request handlers (libs/messaging RpcServer) in its queue group. */
@Injectable()
export class RpcServerService extends RpcServer {
  constructor(@Inject(NATS) nc: NatsConnection, @Inject(LOGGER) logger: Logger, metrics: RegistryMetrics) {
    super(nc, { queue: QueueGroups.registry, logger, observe: (operation, outcome, seconds) => metrics.rpcSeconds.observe({ operation, outcome }, seconds) });
  }
}
