import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';

import { Consumers } from '@waggle/contracts';
import { consumeTaskEvents } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, NATS } from '@waggle/service-kit';

import { ItemRepository } from '../items/item.repository';
import { TrackerConfig } from '../tracker.config';
import { AssignService } from './assign.service';

/**
 * Task events wake the sync of the items linked to their tasks (one durable consumer shared
 * by the replicas). A sweep catches what no event did: a task made while the tracker was
 * away, or an assign cut short before its task was made.
 */
@Injectable()
export class TaskEventsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly abort = new AbortController();
  private timer?: NodeJS.Timeout;
  private sweeping = false;

  constructor(
    private readonly items: ItemRepository,
    private readonly assign: AssignService,
    private readonly config: TrackerConfig,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap() {
    // Items assigned before the tracker first started learn their state from the sweep.
    await consumeTaskEvents(this.nc, {
      durable: Consumers.trackerTaskEvents,
      logger: this.logger,
      signal: this.abort.signal,
      onTasks: async (taskIds) => {
        for (const id of await this.items.idsOfTasks(taskIds)) {
          await this.assign.sync(id);
        }
      },
    });
    this.timer = setInterval(() => void this.sweep(), this.config.WAGGLE_TRACKER_SYNC_INTERVAL_MS);
  }

  onApplicationShutdown() {
    this.abort.abort();
    clearInterval(this.timer);
  }

  private async sweep() {
    if (this.sweeping) {
      return;
    }
    this.sweeping = true;
    try {
      for (const id of await this.items.idsWithUnsettledTasks()) {
        await this.assign.sync(id);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'sweep of items with running tasks failed; next time');
    } finally {
      this.sweeping = false;
    }
  }
}
