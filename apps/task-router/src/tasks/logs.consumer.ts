import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';

import { Consumers, LogChunk, machineIdOf, Streams } from '@waggle/contracts';
import { consumeDurable, publishLive } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, NATS } from '@waggle/service-kit';

import { TaskRouterMetrics } from '../infrastructure/task-router.metrics';
import { TaskRouterConfig } from '../task-router.config';
import { TaskLogRepository } from './task-log.repository';

/**
 * Takes task output off the LOGS stream (one durable consumer shared by the replicas),
 * keeps the chunks of current attempts in Postgres and passes them on to followers. Chunks
 * of superseded attempts are refused.
 */
@Injectable()
export class LogsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly abort = new AbortController();

  constructor(
    private readonly taskLogs: TaskLogRepository,
    private readonly config: TaskRouterConfig,
    private readonly metrics: TaskRouterMetrics,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap() {
    await consumeDurable(
      this.nc,
      { stream: Streams.logs.name, durable: Consumers.logs, maxDeliver: 10 },
      {
        type: LogChunk,
        batchSize: 500,
        logger: this.logger,
        signal: this.abort.signal,
        handleBatch: async (items) => {
          const chunks = items.map(({ payload, msg }) => ({ ...payload, machineId: machineIdOf(msg.subject) }));
          const accepted = await this.taskLogs.appendFromCurrentAttempts(
            chunks,
            this.config.WAGGLE_TASK_LOG_LIMIT_BYTES,
          );
          this.metrics.logChunks.inc({ outcome: 'accepted' }, accepted.length);
          if (accepted.length < chunks.length) {
            this.metrics.logChunks.inc({ outcome: 'refused' }, chunks.length - accepted.length);
          }
          for (const chunk of accepted) {
            publishLive(this.nc, 'taskLogs', chunk);
          }
        },
      },
    );
  }

  onApplicationShutdown() {
    this.abort.abort();
  }
}
