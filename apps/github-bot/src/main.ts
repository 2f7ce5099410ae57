import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';
import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';

import { loadConfigOrExit } from '@waggle/config';
import { natsReachable } from '@waggle/messaging';
import { createLogger, createMetricsRegistry, NestPinoLogger, startOpsServer } from '@waggle/observability';
import { databaseReachable } from '@waggle/persistence';

import { botToken, GithubBotConfig } from './github-bot.config';
import { GithubBotModule } from './github-bot.module';
import { NATS } from './infrastructure/tokens';

async function main() {
  const config = loadConfigOrExit(GithubBotConfig);
  const logger = createLogger('github-bot', config.WAGGLE_LOG_LEVEL);
  const metrics = createMetricsRegistry('github-bot');
  const app = await NestFactory.createApplicationContext(GithubBotModule.forRoot(config, logger, metrics), { logger: new NestPinoLogger(logger) });
  app.enableShutdownHooks();
  await app.init();
  const nc = app.get<NatsConnection>(NATS);
  const dataSource = app.get(DataSource);
  if (config.WAGGLE_GITHUB_BOT_METRICS_PORT) {
    const server = await startOpsServer(config.WAGGLE_GITHUB_BOT_METRICS_PORT, config.WAGGLE_METRICS_HOST, metrics, async () => ({
      nats: await natsReachable(nc),
      postgres: await databaseReachable(dataSource),
    }));
    process.once('SIGTERM', () => server.close());
  }
  logger.info({ api: config.WAGGLE_GITHUB_API_URL, hasToken: !!botToken(config), metricsPort: config.WAGGLE_GITHUB_BOT_METRICS_PORT }, 'github-bot ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`github-bot failed to start: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
