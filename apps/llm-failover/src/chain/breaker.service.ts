import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';

import type { BreakerState, BreakerView } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import { event } from '@waggle/outbox';
import { LOGGER, TransactionsService } from '@waggle/service-kit';

import { LlmMetrics } from '../infrastructure/llm.metrics';
import { CHAIN } from '../infrastructure/tokens';
import type { ProviderChain } from '../llm-failover.config';
import { LlmFailoverConfig } from '../llm-failover.config';
import type { BreakerRow } from './breaker.repository';
import { BreakerRepository } from './breaker.repository';

/** What the breaker says about one call: go ahead, go as the one probe, or skip the provider. */
export type Admission = 'closed' | 'probe' | 'skip';

const GAUGE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** The per-provider circuit breakers, shared by every replica through Postgres. */
@Injectable()
export class BreakerService implements OnApplicationBootstrap {
  constructor(
    private readonly breakers: BreakerRepository,
    private readonly tx: TransactionsService,
    private readonly config: LlmFailoverConfig,
    private readonly metrics: LlmMetrics,
    @Inject(CHAIN) private readonly chain: ProviderChain,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap() {
    await this.breakers.ensure(this.chain.providers.map((p) => p.name));
  }

  /** Probes get a request's time to finish; one that never reports frees the probe after it. */
  private get probeMs() {
    return Math.max(this.config.WAGGLE_LLM_TIMEOUT_MS, this.config.WAGGLE_LLM_LOCAL_TIMEOUT_MS) * 2;
  }

  /** One read per call; `failures` lets a clean success skip its write. */
  async admit(provider: string): Promise<{ admission: Admission; failures: number }> {
    const row = await this.breakers.find(provider);
    if (!row || row.state === 'closed') {
      return { admission: 'closed', failures: row?.failures ?? 0 };
    }
    const probe = await this.breakers.claimProbe(provider, this.config.WAGGLE_LLM_BREAKER_COOLDOWN_MS, this.probeMs);
    return { admission: probe ? 'probe' : 'skip', failures: row.failures };
  }

  /** A success closes the circuit and clears the count (no write when it was already clean). */
  async succeeded(provider: string, admitted: { admission: Admission; failures: number }): Promise<void> {
    if (admitted.admission === 'closed' && admitted.failures === 0) {
      return;
    }
    const previous = await this.tx.run(async (manager) => {
      const was = await this.breakers.succeed(manager, provider);
      // The change and its announcement commit together, as for failures.
      return {
        result: was,
        outbox: was && was !== 'closed' ? [event(randomUUID(), 'llm.circuit_closed', { provider })] : [],
      };
    });
    this.metrics.breakerState.set({ provider }, 0);
    if (previous && previous !== 'closed') {
      this.logger.info({ provider }, 'circuit closed');
    }
  }

  async failed(provider: string, error: string): Promise<void> {
    const result = await this.tx.run(async (manager) => {
      const changed = await this.breakers.fail(manager, provider, this.config.WAGGLE_LLM_BREAKER_THRESHOLD, error);
      return {
        result: changed,
        outbox: changed.opened
          ? [
              event(randomUUID(), 'llm.circuit_opened', {
                provider,
                failures: changed.failures,
                lastError: error.slice(0, 500),
              }),
            ]
          : [],
      };
    });
    this.metrics.breakerState.set({ provider }, GAUGE[result.state]);
    if (result.opened) {
      this.logger.warn({ provider, failures: result.failures, error }, 'circuit opened');
    }
  }

  async list(): Promise<BreakerView[]> {
    return (await this.breakers.all()).map((row) => this.view(row));
  }

  async reset(provider?: string): Promise<BreakerView[]> {
    await this.breakers.reset(provider);
    for (const p of this.chain.providers) {
      if (!provider || p.name === provider) {
        this.metrics.breakerState.set({ provider: p.name }, 0);
      }
    }
    return this.list();
  }

  private view(row: BreakerRow): BreakerView {
    const retryAt =
      row.state === 'open' && row.opened_at
        ? new Date(row.opened_at.getTime() + this.config.WAGGLE_LLM_BREAKER_COOLDOWN_MS).toISOString()
        : null;
    return {
      provider: row.provider,
      state: row.state,
      consecutiveFailures: row.failures,
      openedAt: row.opened_at?.toISOString() ?? null,
      retryAt,
      lastError: row.last_error,
    };
  }
}
