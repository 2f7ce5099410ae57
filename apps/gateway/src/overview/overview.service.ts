import { Inject, Injectable } from '@nestjs/common';

import type { OverviewView } from '@waggle/contracts';
import { GithubRpc, LlmRpc, RegistryRpc, TaskRouterRpc } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER } from '@waggle/service-kit';

/** An answer this young is shared: a page of people loading at once costs one round of requests. */
const FRESH_MS = 1_000;
/** Each service gets this long; one that does not answer leaves its figures null rather than holding up the rest. */
const STATS_TIMEOUT_MS = 2_000;

/** Start of the UTC day of `at` (the day LLM budgets and spend count by). */
export function startOfUtcDay(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

/** What a settled call gave, or null (and the service's name noted) when it failed. */
function valueOf<T>(result: PromiseSettledResult<T>, service: string, unavailable: string[]): T | null {
  if (result.status === 'fulfilled') {
    return result.value;
  }
  unavailable.push(service);
  return null;
}

/**
 * GET /api/overview: asks each owning service for its counts over NATS, in parallel (the
 * gateway reads no other service's tables).
 */
@Injectable()
export class OverviewService {
  private latest?: { at: number; view: Promise<OverviewView> };

  constructor(
    private readonly rpc: RpcClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get(): Promise<OverviewView> {
    const now = Date.now();
    if (this.latest && now - this.latest.at < FRESH_MS) {
      return this.latest.view;
    }
    const view = this.compute(new Date(now));
    this.latest = { at: now, view };
    return view;
  }

  private async compute(now: Date): Promise<OverviewView> {
    const since = startOfUtcDay(now);
    const request = { since: since.toISOString() };
    const [registry, tasks, llm, github] = await Promise.allSettled([
      this.rpc.call(RegistryRpc.stats, request, STATS_TIMEOUT_MS),
      this.rpc.call(TaskRouterRpc.stats, request, STATS_TIMEOUT_MS),
      this.rpc.call(LlmRpc.summary, { day: request.since.slice(0, 10) }, STATS_TIMEOUT_MS),
      this.rpc.call(GithubRpc.stats, request, STATS_TIMEOUT_MS),
    ]);
    const unavailable: string[] = [];
    const r = valueOf(registry, 'registry', unavailable);
    const t = valueOf(tasks, 'task-router', unavailable);
    const l = valueOf(llm, 'llm-failover', unavailable);
    const g = valueOf(github, 'github-bot', unavailable);
    if (unavailable.length) {
      this.logger.debug({ unavailable }, 'overview without some services');
    }
    return {
      since: request.since,
      machinesOnline: r?.machinesOnline ?? null,
      machinesTotal: r?.machinesTotal ?? null,
      tasksQueued: t?.queued ?? null,
      tasksRunning: t?.running ?? null,
      tasksDoneToday: t?.succeededSince ?? null,
      tasksFailedToday: t?.failedSince ?? null,
      messagesToday: r?.messagesSince ?? null,
      llmSpendTodayUsd: l?.total.costUsd ?? null,
      openGithubLinks: g?.openLinks ?? null,
      unavailable,
    };
  }
}
