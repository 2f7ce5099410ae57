import { SwaggerModule } from '@nestjs/swagger';

import { loadConfigOrExit } from '@waggle/config';
import { createLogger, createMetricsRegistry } from '@waggle/observability';
import type { HostedService } from '@waggle/service-kit';

import { buildOpenApi, createGatewayApp } from './app';
import { AuthService } from './auth/auth.service';
import { GatewayConfig } from './gateway.config';

/** The gateway as a service a process hosts: alone (main.ts) or beside the others (`waggle up`). */
export const service: HostedService = {
  name: 'gateway',
  // Beside other services (`waggle up`), it answers /ready only once they are up.
  startsLast: true,
  async start() {
    const config = loadConfigOrExit(GatewayConfig);
    const logger = createLogger('gateway', config.WAGGLE_LOG_LEVEL);
    const metrics = createMetricsRegistry('gateway');
    const app = await createGatewayApp(config, logger, metrics);
    SwaggerModule.setup('docs', app, buildOpenApi(app), { jsonDocumentUrl: 'docs/openapi.json' });
    await app.get(AuthService).ensureAdminToken();
    await app.get(AuthService).ensureAdminAccount();
    await app.listen(config.WAGGLE_PORT, config.WAGGLE_HOST);
    logger.info({ url: await app.getUrl() }, 'gateway ready');
    return async () => {
      logger.info('gateway stopping');
      await app.close();
    };
  },
};
