import 'reflect-metadata';

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { createLogger, createMetricsRegistry } from '@waggle/observability';

import { buildOpenApi, createGatewayApp } from './app';
import { GatewayConfig } from './gateway.config';

/** The OpenAPI document as JSON text, built in preview mode (nothing is connected). */
export async function renderOpenApi(): Promise<string> {
  const config = Object.assign(new GatewayConfig(), { WAGGLE_DATABASE_URL: 'postgres://preview', WAGGLE_NATS_URL: 'nats://preview' });
  const app = await createGatewayApp(config, createLogger('gateway', 'error', false), createMetricsRegistry('gateway'), true);
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
