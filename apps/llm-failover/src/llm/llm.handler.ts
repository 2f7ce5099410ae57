import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';

import { EmptyRequest, ListFailoversRequest, LlmCallRequest, LlmRpc, LlmSummaryRequest, ResetBreakersRequest, WaggleError } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';

import { BreakerService } from '../chain/breaker.service';
import { UsageRepository } from '../chain/usage.repository';
import { RpcServerService } from '../infrastructure/infrastructure.module';
import { LOGGER } from '../infrastructure/tokens';
import { LlmService } from './llm.service';

@Injectable()
export class LlmHandler implements OnApplicationBootstrap {
  constructor(
    private readonly rpc: RpcServerService,
    private readonly llm: LlmService,
    private readonly breakers: BreakerService,
    private readonly usage: UsageRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    this.rpc.handle(LlmRpc.complete, LlmCallRequest, (req) => this.llm.complete(req));
    this.rpc.handle(LlmRpc.stream, LlmCallRequest, (req) => {
      if (!req.streamTo) throw WaggleError.invalid('streamTo is required for a streamed call', [{ field: 'streamTo', errors: ['required'] }]);
      // Accepted now; the frames follow on streamTo.
      void this.llm.stream(req).catch((error: unknown) => this.logger.error({ err: error }, 'streamed LLM call failed'));
      return Promise.resolve({ accepted: true as const });
    });
    this.rpc.handle(LlmRpc.summary, LlmSummaryRequest, (req) => this.llm.summary(req.day));
    this.rpc.handle(LlmRpc.providers, EmptyRequest, (req) => this.llm.providers(req));
    this.rpc.handle(LlmRpc.breakers, EmptyRequest, () => this.breakers.list());
    this.rpc.handle(LlmRpc.resetBreakers, ResetBreakersRequest, (req) => this.breakers.reset(req.provider));
    this.rpc.handle(LlmRpc.failovers, ListFailoversRequest, (req) => this.usage.failovers(req.limit, req.cursor));
  }
}
