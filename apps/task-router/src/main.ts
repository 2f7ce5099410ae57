import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';
import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';

import { loadConfigOrExit } from '@waggle/config';
import { natsReachable } from '@waggle/messaging';
import { createLogger, createMetricsRegistry, NestPinoLogger, startOpsServer } from '@waggle/observability';
import { databaseReachable } from '@waggle/persistence';

import { NATS } from './infrastructure/tokens';
import { TaskRouterConfig } from './task-router.config';
import { TaskRouterModule } from './task-router.module';

async function main() {
  const config = loadConfigOrExit(TaskRouterConfig);
  const logger = createLogger('task-router', config.WAGGLE_LOG_LEVEL);
  const metrics = createMetricsRegistry('task-router');
  const app = await NestFactory.createApplicationContext(TaskRouterModule.forRoot(config, logger, metrics), { logger: new NestPinoLogger(logger) });
  app.enableShutdownHooks();
  await app.init();
  const nc = app.get<NatsConnection>(NATS);
  const dataSource = app.get(DataSource);
  if (config.WAGGLE_TASK_ROUTER_METRICS_PORT) {
    const server = await startOpsServer(config.WAGGLE_TASK_ROUTER_METRICS_PORT, config.WAGGLE_METRICS_HOST, metrics, async () => ({
      nats: await natsReachable(nc),
      postgres: await databaseReachable(dataSource),
    }));
    process.once('SIGTERM', () => server.close());
  }
  logger.info({ metricsPort: config.WAGGLE_TASK_ROUTER_METRICS_PORT }, 'task-router ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`task-router failed to start: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
