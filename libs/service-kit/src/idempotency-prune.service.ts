import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { HubServiceConfig } from '@waggle/config';
import type { Logger } from '@waggle/observability';
import type { IdempotentTable } from '@waggle/persistence';
import { pruneIdempotencyKeys } from '@waggle/persistence';

import { LOGGER } from './tokens';

/** The service's tables that keep Idempotency-Keys (HubServiceOptions.idempotentTables). */
export const IDEMPOTENT_TABLES = Symbol('IDEMPOTENT_TABLES');

/**
 * Clears Idempotency-Keys past WAGGLE_IDEMPOTENCY_TTL_SECONDS from the rows that hold them,
 * every half lifetime (at most every 10 minutes). Every replica runs it; the UPDATE is the
 * same whoever runs it. A lookup releases an expired key by itself, so this only keeps the
 * unique indexes small.
 */
@Injectable()
export class IdempotencyPruneService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: HubServiceConfig,
    @Inject(IDEMPOTENT_TABLES) private readonly tables: readonly IdempotentTable[],
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    const every = Math.min(600_000, Math.max(1_000, (this.config.WAGGLE_IDEMPOTENCY_TTL_SECONDS * 1000) / 2));
    this.timer = setInterval(() => {
      this.running ??= this.prune().finally(() => (this.running = undefined));
    }, every);
    this.timer.unref();
  }

  async onApplicationShutdown() {
    clearInterval(this.timer);
    await this.running;
  }

  async prune(): Promise<void> {
    for (const table of this.tables) {
      try {
        const cleared = await pruneIdempotencyKeys(this.dataSource, table, this.config.WAGGLE_IDEMPOTENCY_TTL_SECONDS);
        if (cleared) {
          this.logger.debug({ table: table.table, cleared }, 'expired idempotency keys cleared');
        }
      } catch (error) {
        this.logger.warn({ err: error, table: table.table }, 'idempotency key prune failed; will retry');
      }
    }
  }
}
