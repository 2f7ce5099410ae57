import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy } from 'nats';
import type { NatsConnection } from 'nats';

import type { ActivityView, ListActivityRequest, Page } from '@waggle/contracts';
import { ACTIVITY_SUBJECT, ActivityRecord, Consumers, Streams } from '@waggle/contracts';
import { consumeDurable } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, NATS } from '@waggle/service-kit';

import { iso, limitOf, numericCursor, pageOf } from '../common/paging';
import { TrackerConfig } from '../tracker.config';
import type { ActivityRow } from './activity.repository';
import { ActivityRepository } from './activity.repository';

const PRUNE_BATCH = 10_000;

/**
 * The hub's activity log: the gateway publishes every change made through the API, the
 * tracker's replicas share one durable consumer that writes them in batches, and a prune
 * deletes what is older than the retention.
 */
@Injectable()
export class ActivityService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly abort = new AbortController();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly activity: ActivityRepository,
    private readonly config: TrackerConfig,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap() {
    await consumeDurable(
      this.nc,
      {
        stream: Streams.activity.name,
        durable: Consumers.trackerActivity,
        filter: ACTIVITY_SUBJECT,
        deliverPolicy: DeliverPolicy.All,
        maxDeliver: 10,
      },
      {
        type: ActivityRecord,
        batchSize: 500,
        logger: this.logger,
        signal: this.abort.signal,
        handleBatch: (items) => this.activity.insertMany(items.map((i) => i.payload)),
      },
    );
    this.timer = setInterval(() => void this.prune(), this.config.WAGGLE_TRACKER_ACTIVITY_PRUNE_INTERVAL_MS);
    void this.prune();
  }

  onApplicationShutdown() {
    this.abort.abort();
    clearInterval(this.timer);
  }

  async list(req: ListActivityRequest): Promise<Page<ActivityView>> {
    const limit = limitOf(req.limit);
    const rows = await this.activity.list({ ...req, beforeSeq: numericCursor(req.cursor), limit });
    return pageOf(
      rows,
      limit,
      (r) => [String(r.seq)],
      (r) => this.view(r),
    );
  }

  async prune(): Promise<void> {
    try {
      let pruned = 0;
      for (;;) {
        const n = await this.activity.prune(this.config.WAGGLE_TRACKER_ACTIVITY_RETENTION_DAYS, PRUNE_BATCH);
        pruned += n;
        if (n < PRUNE_BATCH) {
          break;
        }
      }
      if (pruned) {
        this.logger.info({ pruned }, 'activity older than the retention deleted');
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'activity prune failed; next time');
    }
  }

  private view(row: ActivityRow): ActivityView {
    return {
      id: row.id,
      at: iso(row.at)!,
      actor: { kind: row.actor_kind, name: row.actor_name, id: row.actor_id },
      address: row.address,
      method: row.method,
      route: row.route,
      path: row.path,
      status: row.status,
      requestId: row.request_id,
    };
  }
}
