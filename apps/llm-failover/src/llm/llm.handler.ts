import { Controller, Inject } from '@nestjs/common';

import {
  EmptyRequest,
  ListFailoversRequest,
  LlmCallRequest,
  LlmRpc,
  LlmSummaryRequest,
  ResetBreakersRequest,
  WaggleError,
} from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import { HandleRpc, LOGGER } from '@waggle/service-kit';

import { BreakerService } from '../chain/breaker.service';
import { UsageRepository } from '../chain/usage.repository';
import { LlmService } from './llm.service';

@Controller()
export class LlmHandler {
  constructor(
    private readonly llm: LlmService,
    private readonly breakers: BreakerService,
    private readonly usage: UsageRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @HandleRpc(LlmRpc.complete)
  complete(req: LlmCallRequest) {
    return this.llm.complete(req);
  }

  /** Accepted now; the frames follow on `streamTo`. */
  @HandleRpc(LlmRpc.stream)
  stream(req: LlmCallRequest) {
    if (!req.streamTo) {
      throw WaggleError.invalid('streamTo is required for a streamed call', [
        { field: 'streamTo', errors: ['required'] },
      ]);
    }
    void this.llm.stream(req).catch((error: unknown) => this.logger.error({ err: error }, 'streamed LLM call failed'));
    return { accepted: true as const };
  }

  @HandleRpc(LlmRpc.summary)
  summary(req: LlmSummaryRequest) {
    return this.llm.summary(req.day);
  }

  @HandleRpc(LlmRpc.providers)
  providers(req: EmptyRequest) {
    return this.llm.providers(req);
  }

  @HandleRpc(LlmRpc.breakers)
  listBreakers() {
    return this.breakers.list();
  }

  @HandleRpc(LlmRpc.resetBreakers)
  resetBreakers(req: ResetBreakersRequest) {
    return this.breakers.reset(req.provider);
  }

  @HandleRpc(LlmRpc.failovers)
  failovers(req: ListFailoversRequest) {
    return this.usage.failovers(req.limit, req.cursor);
  }
}
