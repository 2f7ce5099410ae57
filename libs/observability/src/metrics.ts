import { createServer } from 'node:http';
import type { Server } from 'node:http';

import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * prom-client's default gauges that end in `_total`, which Prometheus reserves for counters
 * (`promtool check metrics` warns on each). Each is the sum over `type` of the gauge without
 * the suffix (`sum(waggle_<service>_nodejs_active_handles)`), so nothing is lost by dropping it.
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** One registry per service; metric names are `waggle_<service>_<thing>_<unit>`. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  const prefix = `waggle_${service.replaceAll('-', '_')}_`;
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of MISNAMED_DEFAULT_GAUGES) {
    registry.removeSingleMetric(prefix + name);
  }
  return registry;
}

export type HealthCheck = () => Promise<Record<string, boolean>>;

/**
 * A tiny HTTP endpoint for services that have no HTTP server of their own: `/metrics` for
 * Prometheus, `/health` (alive) and `/ready` (dependencies reachable).
 */
export async function startOpsServer(
  port: number,
  host: string,
  registry: Registry,
  ready: HealthCheck,
): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/metrics') {
        res.setHeader('content-type', registry.contentType);
        res.end(await registry.metrics());
      } else if (req.url === '/health') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ status: 'ok' }));
      } else if (req.url === '/ready') {
        const checks = await ready();
        const ok = Object.values(checks).every(Boolean);
        res.statusCode = ok ? 200 : 503;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', checks }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
