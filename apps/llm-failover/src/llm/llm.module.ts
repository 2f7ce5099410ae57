import { Module } from '@nestjs/common';

import { BreakerRepository } from '../chain/breaker.repository';
import { BreakerService } from '../chain/breaker.service';
import { BudgetService } from '../chain/budget.service';
import { ChainService } from '../chain/chain.service';
import { HealthService } from '../chain/health.service';
import { PriceTable } from '../chain/pricing';
import { ProviderKeysService } from '../chain/provider-keys.service';
import { UsageRepository } from '../chain/usage.repository';
import { CHAIN } from '../infrastructure/tokens';
import type { ProviderChain } from '../llm-failover.config';
import { LlmHandler } from './llm.handler';
import { LlmService } from './llm.service';
import { PRICES } from './prices.token';

@Module({
  controllers: [LlmHandler],
  providers: [
    { provide: PRICES, useFactory: (chain: ProviderChain) => new PriceTable(chain.prices), inject: [CHAIN] },
    BreakerRepository,
    UsageRepository,
    BreakerService,
    HealthService,
    ProviderKeysService,
    ChainService,
    BudgetService,
    LlmService,
  ],
})
export class LlmModule {}
