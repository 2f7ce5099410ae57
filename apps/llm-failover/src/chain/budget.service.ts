import { Injectable } from '@nestjs/common';

import { TransactionsService } from '@waggle/service-kit';

import { LlmMetrics } from '../infrastructure/llm.metrics';
import { LlmFailoverConfig } from '../llm-failover.config';
import type { ChatRequest } from '../wire/canonical';
import { ChainService } from './chain.service';
import type { PriceTable } from './pricing';
import type { RequestRecord } from './usage.repository';
import { UsageRepository } from './usage.repository';

/** A cap would be passed: the call is refused before anything is sent. */
export class BudgetExceeded extends Error {
  constructor(
    readonly budget: 'daily' | 'machine' | 'task',
    message: string,
    /** Seconds until a daily cap resets (none for a task cap). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'BudgetExceeded';
  }
}

const usd = (n: number) => `$${n.toFixed(4)}`;

/**
 * Spending caps per day, per machine per day and per task. A call reserves its worst-case
 * cost (input at ~3 characters a token, max_tokens of output, at the priciest provider it
 * may reach) under a lock, so concurrent calls on any replica cannot overspend together;
 * the reservation becomes the real cost when the call ends.
 */
@Injectable()
export class BudgetService {
  constructor(
    private readonly config: LlmFailoverConfig,
    private readonly usage: UsageRepository,
    private readonly tx: TransactionsService,
    private readonly chain: ChainService,
    private readonly metrics: LlmMetrics,
  ) {}

  get caps() {
    return {
      dailyUsd: this.config.WAGGLE_LLM_BUDGET_DAILY_USD ?? null,
      perMachineDailyUsd: this.config.WAGGLE_LLM_BUDGET_MACHINE_DAILY_USD ?? null,
      perTaskUsd: this.config.WAGGLE_LLM_BUDGET_TASK_USD ?? null,
    };
  }

  get active(): boolean {
    const c = this.caps;
    return c.dailyUsd !== null || c.perMachineDailyUsd !== null || c.perTaskUsd !== null;
  }

  /** The most this call can cost on any provider of the chain. */
  worstCase(req: ChatRequest, prices: PriceTable): number {
    const chars = (req.system?.length ?? 0) + req.messages.reduce((n, m) => n + m.content.length, 0);
    const inputTokens = Math.ceil(chars / 3) + 16;
    return Math.max(
      0,
      ...this.chain.providers.map(
        (p) => prices.cost(p, this.chain.modelFor(p, req.model), { inputTokens, outputTokens: req.maxTokens }).usd,
      ),
    );
  }

  /** Reserves the worst case against every cap that applies, or refuses. No caps: nothing to do. */
  async reserve(record: RequestRecord, req: ChatRequest, prices: PriceTable): Promise<boolean> {
    if (!this.active) {
      return false;
    }
    const estimate = this.worstCase(req, prices);
    const caps = this.caps;
    await this.tx.run(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('llm.budget'))`);
      const spent = await this.usage.spent(manager, record.machineId, record.taskId);
      const midnight = new Date();
      midnight.setUTCHours(24, 0, 0, 0);
      const untilMidnight = Math.ceil((midnight.getTime() - Date.now()) / 1000);
      const check = (
        budget: BudgetExceeded['budget'],
        cap: number | null,
        spentSoFar: number,
        what: string,
        retry?: number,
      ) => {
        if (cap === null || spentSoFar + estimate <= cap) {
          return;
        }
        this.metrics.refusals.inc({ budget });
        throw new BudgetExceeded(
          budget,
          `${what} budget of ${usd(cap)} would be exceeded: ${usd(spentSoFar)} spent or reserved, and this request may cost up to ${usd(estimate)}`,
          retry,
        );
      };
      check('daily', caps.dailyUsd, spent.day, 'the daily', untilMidnight);
      if (record.machineId) {
        check('machine', caps.perMachineDailyUsd, spent.machineDay, `this machine's daily`, untilMidnight);
      }
      if (record.taskId) {
        check('task', caps.perTaskUsd, spent.task, `this task's`);
      }
      await this.usage.reserve(manager, record, estimate);
      return { result: null, outbox: [] };
    });
    return true;
  }
}
