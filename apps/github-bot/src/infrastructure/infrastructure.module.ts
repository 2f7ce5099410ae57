import { Global, Inject, Injectable, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';

import { QueueGroups } from '@waggle/contracts';
import { createGithubClient } from '@waggle/github';
import { hubConnectionProvider, RpcClient, RpcServer } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { OutboxTransactions } from '@waggle/outbox';
import { databaseProvider } from '@waggle/persistence';

import { botToken, GithubBotConfig } from '../github-bot.config';
import { githubBotMigrations } from '../migrations';
import { GithubBotMetrics } from './github-bot.metrics';
import { RateLimitState } from './rate-limit.state';
import { SecretBox } from './secret-box';
import { GITHUB, LOGGER, METRICS, NATS, SCHEMA } from './tokens';

/** Transactions with outbox (libs/outbox) as a Nest provider. */
@Injectable()
export class TransactionsService extends OutboxTransactions {
  constructor(dataSource: DataSource, @Inject(NATS) nc: NatsConnection, @Inject(LOGGER) logger: Logger, metrics: GithubBotMetrics) {
    super({ dataSource, js: nc.jetstream(), schema: SCHEMA, logger: logger.child({ component: 'outbox' }), onRelayed: (n) => metrics.outboxRelayed.inc(n) });
  }
}

/** Request handlers in the GitHub bot's queue group. */
@Injectable()
export class RpcServerService extends RpcServer {
  constructor(@Inject(NATS) nc: NatsConnection, @Inject(LOGGER) logger: Logger, metrics: GithubBotMetrics) {
    super(nc, {
      queue: QueueGroups.githubBot,
      logger,
      observe: (operation, outcome, seconds) => metrics.rpcSeconds.observe({ operation, outcome }, seconds),
    });
  }
}

/** Requests to other hub services (the task-router). */
@Injectable()
export class HubClient extends RpcClient {
  constructor(@Inject(NATS) nc: NatsConnection) {
    super(nc);
  }
}

@Global()
@Module({})
export class InfrastructureModule {
  static forRoot(config: GithubBotConfig, logger: Logger, metrics: Registry): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [
        { provide: GithubBotConfig, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: METRICS, useValue: metrics },
        { provide: SecretBox, useValue: new SecretBox(config.WAGGLE_GITHUB_SECRETS_KEY) },
        RateLimitState,
        {
          provide: GITHUB,
          inject: [RateLimitState, GithubBotMetrics],
          useFactory: (limits: RateLimitState, botMetrics: GithubBotMetrics) => {
            const token = botToken(config);
            return token
              ? createGithubClient({
                  token,
                  baseUrl: config.WAGGLE_GITHUB_API_URL,
                  logger: logger.child({ component: 'github' }),
                  writeIntervalMs: config.WAGGLE_GITHUB_WRITE_INTERVAL_MS,
                  onRateLimited: (seconds) => {
                    botMetrics.rateLimitWaits.inc();
                    limits.limited(seconds);
                  },
                })
              : null;
          },
        },
        databaseProvider({
          url: config.WAGGLE_DATABASE_URL,
          schema: SCHEMA,
          entities: [],
          migrations: githubBotMigrations,
          applicationName: 'waggle-github-bot',
        }),
        hubConnectionProvider(NATS, {
          servers: config.WAGGLE_NATS_URL,
          name: 'github-bot',
          creds: config.WAGGLE_NATS_CREDS,
          replicas: config.WAGGLE_JETSTREAM_REPLICAS,
          onStatus: (s) => logger.info({ status: s.type }, 'nats connection status'),
        }),
        GithubBotMetrics,
        TransactionsService,
        RpcServerService,
        HubClient,
      ],
      exports: [
        GithubBotConfig,
        LOGGER,
        METRICS,
        GITHUB,
        SecretBox,
        RateLimitState,
        DataSource,
        NATS,
        GithubBotMetrics,
        TransactionsService,
        RpcServerService,
        HubClient,
      ],
    };
  }
}
