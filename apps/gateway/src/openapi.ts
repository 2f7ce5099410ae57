import 'reflect-metadata';

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { createLogger, createMetricsRegistry } from '@waggle/observability';

import { buildOpenApi, createGatewayApp } from './app';
import { GatewayConfig } from './gateway.config';

/** The gateway's route table in preview mode: nothing is connected, no provider runs. */
export function previewGatewayApp(): Promise<NestFastifyApplication> {
  const config = Object.assign(new GatewayConfig(), {
    WAGGLE_DATABASE_URL: 'postgres://preview',
    WAGGLE_NATS_URL: 'nats://preview',
  });
  return createGatewayApp(config, createLogger('gateway', 'error', false), createMetricsRegistry('gateway'), true);
}

/** The OpenAPI document as JSON text. */
export async function renderOpenApi(): Promise<string> {
  const app = await previewGatewayApp();
  const document = buildOpenApi(app);
  await app.close();
  return `${JSON.stringify(document, null, 2)}\n`;
}

export const OPENAPI_PATH = join(__dirname, '..', '..', '..', 'docs', 'openapi.json');

if (require.main === module) {
  void renderOpenApi().then((text) => {
    writeFileSync(OPENAPI_PATH, text);
    process.stdout.write(`wrote ${OPENAPI_PATH}\n`);
  });
}
