import 'reflect-metadata';

import { SwaggerModule } from '@nestjs/swagger';

import { loadConfigOrExit } from '@waggle/config';
import { createLogger, createMetricsRegistry } from '@waggle/observability';

import { buildOpenApi, createGatewayApp } from './app';
import { AuthService } from './auth/auth.service';
import { GatewayConfig } from './gateway.config';

async function main() {
  const config = loadConfigOrExit(GatewayConfig);
  const logger = createLogger('gateway', config.WAGGLE_LOG_LEVEL);
  const metrics = createMetricsRegistry('gateway');
  const app = await createGatewayApp(config, logger, metrics);
  SwaggerModule.setup('docs', app, buildOpenApi(app), { jsonDocumentUrl: 'docs/openapi.json' });
  await app.get(AuthService).ensureAdminToken();
  await app.listen(config.WAGGLE_PORT, config.WAGGLE_HOST);
  logger.info({ url: await app.getUrl() }, 'gateway ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
