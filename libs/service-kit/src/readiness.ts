import type { NatsConnection } from 'nats';
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
