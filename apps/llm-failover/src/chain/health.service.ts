import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

import type { Logger } from '@waggle/observability';
import { LOGGER } from '@waggle/service-kit';

import { CHAIN } from '../infrastructure/tokens';
import type { ProviderChain } from '../llm-failover.config';
import { LlmFailoverConfig } from '../llm-failover.config';
import type { ProviderSettings } from '../wire/providers';
import { PROVIDER_WIRES } from '../wire/providers';

const PROBE_TIMEOUT_MS = 3_000;

/**
 * Health of local providers, probed apart from requests: Ollama busy generating still lists
 * its models at once, so a slow answer is not mistaken for a dead provider.
 */
@Injectable()
export class HealthService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly healthy = new Map<string, boolean>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: LlmFailoverConfig,
    @Inject(CHAIN) private readonly chain: ProviderChain,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    const local = this.chain.providers.filter((p) => p.local);
    if (!local.length) {
      return;
    }
    const probeAll = () => void Promise.all(local.map((p) => this.probe(p)));
    probeAll();
    this.timer = setInterval(probeAll, this.config.WAGGLE_LLM_HEALTH_INTERVAL_MS);
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  /** Last probe result of a local provider; null for cloud providers (not probed). */
  status(provider: string): boolean | null {
    return this.healthy.get(provider) ?? null;
  }

  /** Asks the provider for its model list now. */
  async probe(p: ProviderSettings): Promise<boolean> {
    const call = PROVIDER_WIRES[p.kind].health(p);
    let ok = false;
    try {
      const res = await fetch(call.url, { headers: call.headers, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      await res.body?.cancel();
      ok = res.ok;
    } catch {
      ok = false;
    }
    if (this.healthy.get(p.name) !== ok) {
      this.logger.info({ provider: p.name, healthy: ok }, 'provider health changed');
    }
    this.healthy.set(p.name, ok);
    return ok;
  }
}
