import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';

import { HubServiceConfig } from '@waggle/config';
import { StreamKeeper } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

import { LOGGER, NATS } from './tokens';

/** The service's StreamKeeper (libs/messaging), looking after the streams from boot to shutdown. */
@Injectable()
export class JetStreamKeeper extends StreamKeeper implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(NATS) nc: NatsConnection, config: HubServiceConfig, @Inject(LOGGER) logger: Logger) {
    super(nc, { replicas: config.WAGGLE_JETSTREAM_REPLICAS, logger: logger.child({ component: 'streams' }) });
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  onApplicationShutdown(): void {
    this.stop();
  }
}
