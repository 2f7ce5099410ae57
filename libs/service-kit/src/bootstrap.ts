import 'reflect-metadata';

import type { Server } from 'node:http';

import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';

import type { HubServiceConfig } from '@waggle/config';
import { loadConfigOrExit } from '@waggle/config';
import { WAGGLE_VERSION } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import { createLogger, createMetricsRegistry, NestPinoLogger, startOpsServer } from '@waggle/observability';

import type { HostedService, StopService } from './hosting';
import { runHosted } from './hosting';
import { HubMetrics } from './hub-metrics';
import { HubNatsServer } from './hub-nats.server';
import { JetStreamKeeper } from './jetstream-keeper';
import { announceService, readinessChecks } from './readiness';
import { RpcErrorFilter } from './rpc-error.filter';
import { NATS } from './tokens';

export interface HubServiceSpec<C extends HubServiceConfig> {
  /** `registry`, `task-router`, …: as in HubServiceModule.forRoot. */
  name: string;
  configType: new () => C;
  /** The queue group its replicas share (contracts' QueueGroups). */
  queue: string;
  /** The app's root module, built from its config (it imports HubServiceModule.forRoot). */
  module: (config: C, logger: Logger, metrics: Registry) => DynamicModule | Type;
  /** Port of /metrics, /health and /ready; none when unset. */
  opsPort: (config: C) => number | undefined;
  /** Extra fields of the "ready" log line. */
  readyDetails?: (config: C) => Record<string, unknown>;
}

/**
 * A hub service to host (see runHosted): config (every bad variable listed, then exit),
 * logger, metrics, the Nest app with its NATS handlers (HubNatsServer), the ops server, and a
 * graceful stop: handlers stop taking requests, work in flight and the outbox finish, then
 * NATS drains.
 */
export function hubService<C extends HubServiceConfig>(spec: HubServiceSpec<C>): HostedService {
  return { name: spec.name, start: () => start(spec) };
}

/** Runs one hub service as this process (its main.ts), stopping on SIGTERM/SIGINT. */
export function bootstrapHubService<C extends HubServiceConfig>(spec: HubServiceSpec<C>): void {
  runHosted([hubService(spec)]);
}

async function start<C extends HubServiceConfig>(spec: HubServiceSpec<C>): Promise<StopService> {
  const config = loadConfigOrExit(spec.configType);
  const logger = createLogger(spec.name, config.WAGGLE_LOG_LEVEL);
  const metrics = createMetricsRegistry(spec.name);
  const transport = new HubNatsServer({ queue: spec.queue, logger });
  const app = await NestFactory.createMicroservice(spec.module(config, logger, metrics), {
    strategy: transport,
    logger: new NestPinoLogger(logger),
  });
  const nc = app.get<NatsConnection>(NATS);
  const hubMetrics = app.get(HubMetrics);
  transport.attach(nc, (operation, outcome, seconds) => hubMetrics.rpcSeconds.observe({ operation, outcome }, seconds));
  app.useGlobalFilters(new RpcErrorFilter(logger));
  await app.listen();
  const port = spec.opsPort(config);
  const dataSource = app.get(DataSource);
  const ops: Server | undefined = port
    ? await startOpsServer(port, config.WAGGLE_METRICS_HOST, metrics, () =>
        readinessChecks(nc, dataSource, app.get(JetStreamKeeper)),
      )
    : undefined;
  // Found by the gateway's /ready once it answers: after everything above is up.
  const discovery = await announceService(nc, spec.name, WAGGLE_VERSION);
  logger.info({ opsPort: port, ...spec.readyDetails?.(config) }, `${spec.name} ready`);
  return async () => {
    logger.info(`${spec.name} stopping`);
    await discovery.stop().catch(() => undefined);
    ops?.close();
    await app.close();
  };
}
