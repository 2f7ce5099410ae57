import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';
import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';

import { loadConfigOrExit } from '@waggle/config';
import { createLogger, createMetricsRegistry, NestPinoLogger, startOpsServer } from '@waggle/observability';
import { databaseReachable } from '@waggle/persistence';

import { NATS } from './infrastructure/tokens';
import { RegistryConfig } from './registry.config';
import { RegistryModule } from './registry.module';

async function main() {
  const config = loadConfigOrExit(RegistryConfig);
  const logger = createLogger('registry', config.WAGGLE_LOG_LEVEL);
  const metrics = createMetricsRegistry('registry');
  const app = await NestFactory.createApplicationContext(RegistryModule.forRoot(config, logger, metrics), { logger: new NestPinoLogger(logger) });
  app.enableShutdownHooks();
  await app.init();
  const nc = app.get<NatsConnection>(NATS);
  const dataSource = app.get(DataSource);
  if (config.WAGGLE_REGISTRY_METRICS_PORT) {
    const server = await startOpsServer(config.WAGGLE_REGISTRY_METRICS_PORT, config.WAGGLE_METRICS_HOST, metrics, async () => ({
      nats: !nc.isClosed(),
      postgres: await databaseReachable(dataSource),
    }));
    process.once('SIGTERM', () => server.close());
  }
  logger.info({ metricsPort: config.WAGGLE_REGISTRY_METRICS_PORT }, 'registry ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`registry failed to start: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
