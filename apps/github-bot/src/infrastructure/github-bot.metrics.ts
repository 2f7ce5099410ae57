import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

import { METRICS } from '@waggle/service-kit';

/** GitHub bot metrics; labels from bounded sets, never ids or repository names. */
@Injectable()
export class GithubBotMetrics {
  readonly webhooks: Counter<'result'>;
  readonly polls: Counter<'result'>;
  readonly tasksCreated: Counter;
  readonly outcomes: Counter<'outcome'>;
  readonly rateLimitWaits: Counter;

  constructor(@Inject(METRICS) registry: Registry) {
    const registers = [registry];
    this.webhooks = new Counter({
      name: 'waggle_github_bot_webhooks_total',
      help: 'Webhook deliveries by result',
      labelNames: ['result'],
      registers,
    });
    this.polls = new Counter({
      name: 'waggle_github_bot_polls_total',
      help: 'Repository polls by result (changed, unchanged, error)',
      labelNames: ['result'],
      registers,
    });
    this.tasksCreated = new Counter({
      name: 'waggle_github_bot_tasks_created_total',
      help: 'Tasks made from issues',
      registers,
    });
    this.outcomes = new Counter({
      name: 'waggle_github_bot_outcomes_total',
      help: 'Outcomes posted on issues',
      labelNames: ['outcome'],
      registers,
    });
    this.rateLimitWaits = new Counter({
      name: 'waggle_github_bot_rate_limit_waits_total',
      help: 'Times a GitHub rate limit made the bot wait',
      registers,
    });
  }
}
