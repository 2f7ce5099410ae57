import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';
import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';

import { ConfigError, loadConfigOrExit } from '@waggle/config';
import { natsReachable } from '@waggle/messaging';
import { createLogger, createMetricsRegistry, NestPinoLogger, startOpsServer } from '@waggle/observability';
import { databaseReachable } from '@waggle/persistence';

import { NATS } from './infrastructure/tokens';
import type { ProviderChain } from './llm-failover.config';
import { LlmFailoverConfig, providersFrom } from './llm-failover.config';
import { LlmFailoverModule } from './llm-failover.module';

async function main() {
  const config = loadConfigOrExit(LlmFailoverConfig);
  let chain: ProviderChain;
  try {
    chain = providersFrom(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger('llm-failover', config.WAGGLE_LOG_LEVEL);
  for (const reason of chain.skipped) logger.warn({ reason }, 'provider left out of the chain');
  logger.info({ chain: chain.providers.map((p) => `${p.name} (${p.kind}${p.local ? ', local' : ''})`) }, 'provider chain');
  const metrics = createMetricsRegistry('llm-failover');
  const app = await NestFactory.createApplicationContext(LlmFailoverModule.forRoot(config, chain, logger, metrics), { logger: new NestPinoLogger(logger) });
  app.enableShutdownHooks();
  await app.init();
  const nc = app.get<NatsConnection>(NATS);
  const dataSource = app.get(DataSource);
  if (config.WAGGLE_LLM_FAILOVER_METRICS_PORT) {
    const server = await startOpsServer(config.WAGGLE_LLM_FAILOVER_METRICS_PORT, config.WAGGLE_METRICS_HOST, metrics, async () => ({
      nats: await natsReachable(nc),
      postgres: await databaseReachable(dataSource),
    }));
    process.once('SIGTERM', () => server.close());
  }
  logger.info({ metricsPort: config.WAGGLE_LLM_FAILOVER_METRICS_PORT }, 'llm-failover ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`llm-failover failed to start: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
