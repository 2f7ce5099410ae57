import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

import { METRICS } from '@waggle/service-kit';

/** llm-failover metrics; labels from bounded sets (configured provider names, outcomes), never ids. */
@Injectable()
export class LlmMetrics {
  readonly requests: Counter<'provider' | 'outcome'>;
  readonly latency: Histogram<'provider' | 'stream'>;
  readonly tokens: Counter<'provider' | 'direction'>;
  readonly cost: Counter<'provider'>;
  readonly failovers: Counter<'provider' | 'reason'>;
  readonly breakerState: Gauge<'provider'>;
  readonly refusals: Counter<'budget'>;

  constructor(@Inject(METRICS) registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'waggle_llm_failover_requests_total',
      help: 'LLM calls by final provider and outcome',
      labelNames: ['provider', 'outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'waggle_llm_failover_call_duration_seconds',
      help: 'Time from request to full answer (streams: to the last event)',
      labelNames: ['provider', 'stream'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.tokens = new Counter({
      name: 'waggle_llm_failover_tokens_total',
      help: 'Tokens by provider and direction',
      labelNames: ['provider', 'direction'],
      registers,
    });
    this.cost = new Counter({
      name: 'waggle_llm_failover_cost_usd_total',
      help: 'Spend in USD by provider',
      labelNames: ['provider'],
      registers,
    });
    this.failovers = new Counter({
      name: 'waggle_llm_failover_failovers_total',
      help: 'Providers left for the next one, by why',
      labelNames: ['provider', 'reason'],
      registers,
    });
    this.breakerState = new Gauge({
      name: 'waggle_llm_failover_circuit_state',
      help: 'Circuit breaker per provider: 0 closed, 1 half-open, 2 open',
      labelNames: ['provider'],
      registers,
    });
    this.refusals = new Counter({
      name: 'waggle_llm_failover_budget_refusals_total',
      help: 'Requests refused by a budget',
      labelNames: ['budget'],
      registers,
    });
  }
}
