import { Empty } from 'nats';
import type { NatsConnection, Service } from 'nats';
import type { DataSource } from 'typeorm';

import type { StreamKeeper } from '@waggle/messaging';
import { natsReachable } from '@waggle/messaging';
import { databaseReachable } from '@waggle/persistence';

/**
 * What every hub service's /ready checks: NATS answers a ping, JetStream holds every stream (the
 * service can publish), and Postgres answers a query.
 */
export async function readinessChecks(
  nc: NatsConnection,
  dataSource: DataSource,
  streams: StreamKeeper,
): Promise<Record<string, boolean>> {
  const [nats, postgres] = await Promise.all([natsReachable(nc), databaseReachable(dataSource)]);
  return { nats, jetstream: nats && streams.ready, postgres };
}

/** A hub service's name in NATS service discovery (`$SRV.PING.<it>`). */
export function discoveryName(service: string): string {
  return `waggle-${service}`;
}

/**
 * Makes a started hub service answer NATS service discovery (`$SRV.PING`, `INFO`, `STATS`
 * with its name), so the gateway's /ready can ask whether each service of the hub is up,
 * wherever it runs. Stopped first when the service stops.
 */
export function announceService(nc: NatsConnection, service: string, version: string): Promise<Service> {
  return nc.services.add({ name: discoveryName(service), version, description: `the Waggle hub's ${service}` });
}

/** Whether each named service has at least one instance answering discovery within `timeoutMs`. */
export async function servicesAnswer(
  nc: NatsConnection,
  services: string[],
  timeoutMs = 1_000,
): Promise<Record<string, boolean>> {
  const answers = await Promise.all(
    services.map((service) =>
      nc.request(`$SRV.PING.${discoveryName(service)}`, Empty, { timeout: timeoutMs }).then(
        () => true,
        () => false,
      ),
    ),
  );
  return Object.fromEntries(services.map((service, i) => [service, answers[i]!]));
}
