import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { RegistryStats } from '@waggle/contracts';
import { singleRow } from '@waggle/persistence';

/** Counts for the overview, in one round trip. */
@Injectable()
export class StatsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Machines online and not revoked (a few hundred rows at most), and messages since `since` (index `messages_created`). */
  async count(since: Date): Promise<RegistryStats> {
    const rows = await this.dataSource.query<RegistryStats[]>(
      `SELECT (SELECT count(*)::int FROM "registry"."machines" WHERE "status" = 'online') AS "machinesOnline",
              (SELECT count(*)::int FROM "registry"."machines" WHERE "revoked_at" IS NULL) AS "machinesTotal",
              (SELECT count(*)::int FROM "registry"."messages" WHERE "created_at" >= $1) AS "messagesSince"`,
      [since],
    );
    return singleRow(rows, 'registry stats');
  }
}
