import 'reflect-metadata';

import { enableCompileCache } from 'node:module';

import type { HubServiceName } from '@waggle/local-infra';
import { hostedServicePath, HUB_SERVICES } from '@waggle/local-infra';
import type { HostedService } from '@waggle/service-kit';
import { isHostedService, runHosted } from '@waggle/service-kit';

/**
 * The hub in one process (`waggle up` on one machine): each service named on the command
 * line, loaded from its app's compiled `service.js` by path (apps never import apps), with
 * its own config, connections and pools, exactly as when it runs alone.
 */
function load(name: string): HostedService {
  if (!(HUB_SERVICES as readonly string[]).includes(name)) {
    throw new Error(`unknown hub service "${name}" (one of ${HUB_SERVICES.join(', ')})`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(hostedServicePath(name as HubServiceName)) as { service?: unknown };
  if (!isHostedService(module.service)) {
    throw new Error(`${hostedServicePath(name as HubServiceName)} does not export a hosted service`);
  }
  return module.service;
}

// V8's compiled code cached on disk (the OS temp dir): a warm start loads Nest, TypeORM and the rest faster.
enableCompileCache();
runHosted(process.argv.slice(2).map(load));
