import type { NatsConnection } from 'nats';
import type { DataSource } from 'typeorm';

import { natsReachable } from '@waggle/messaging';
import { databaseReachable } from '@waggle/persistence';

/** What every hub service's /ready checks: NATS answers a ping and Postgres a query. */
export async function readinessChecks(nc: NatsConnection, dataSource: DataSource): Promise<Record<string, boolean>> {
  const [nats, postgres] = await Promise.all([natsReachable(nc), databaseReachable(dataSource)]);
  return { nats, postgres };
}
