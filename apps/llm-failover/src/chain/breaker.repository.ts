import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type { BreakerState } from '@waggle/contracts';
import { updateReturning } from '@waggle/persistence';

export interface BreakerRow {
  provider: string;
  state: BreakerState;
  failures: number;
  opened_at: Date | null;
  probe_until: Date | null;
  last_error: string | null;
}

const B = '"llm"."breakers"';

/**
 * Circuit breakers in Postgres, so every replica sees and moves the same state. Each
 * transition is one conditional UPDATE: of replicas racing to probe a provider, one wins.
 */
@Injectable()
export class BreakerRepository {
  constructor(private readonly dataSource: DataSource) {}

  async ensure(providers: string[]): Promise<void> {
    await this.dataSource.query(`INSERT INTO ${B} ("provider") SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, [
      providers,
    ]);
  }

  async all(): Promise<BreakerRow[]> {
    return this.dataSource.query<BreakerRow[]>(`SELECT * FROM ${B} ORDER BY "provider"`);
  }

  async find(provider: string): Promise<BreakerRow | null> {
    const [row] = await this.dataSource.query<BreakerRow[]>(`SELECT * FROM ${B} WHERE "provider" = $1`, [provider]);
    return row ?? null;
  }

  /** Claims the one probe of an open circuit whose cool-down is over (or whose last probe never reported). */
  async claimProbe(provider: string, cooldownMs: number, probeMs: number): Promise<boolean> {
    const rows = await updateReturning<{ provider: string }>(
      this.dataSource.manager,
      `UPDATE ${B} SET "state" = 'half_open', "probe_until" = now() + $3::int * interval '1 millisecond', "updated_at" = now()
       WHERE "provider" = $1 AND (("state" = 'open' AND "opened_at" + $2::int * interval '1 millisecond' <= now())
                                  OR ("state" = 'half_open' AND "probe_until" < now()))
       RETURNING "provider"`,
      [provider, cooldownMs, probeMs],
    );
    return rows.length > 0;
  }

  /** Closes the circuit and clears its count; returns the state it had, or null if it was already clean. */
  async succeed(manager: EntityManager, provider: string): Promise<BreakerState | null> {
    const [row] = await updateReturning<{ previous: BreakerState }>(
      manager,
      `UPDATE ${B} AS b SET "state" = 'closed', "failures" = 0, "opened_at" = NULL, "probe_until" = NULL, "updated_at" = now()
       FROM (SELECT "state" AS previous FROM ${B} WHERE "provider" = $1 FOR UPDATE) AS old
       WHERE b."provider" = $1 AND (b."state" <> 'closed' OR b."failures" > 0)
       RETURNING old.previous`,
      [provider],
    );
    return row?.previous ?? null;
  }

  /** Counts a failure; opens the circuit at the threshold, or at once after a failed probe. Returns the new state. */
  async fail(
    manager: EntityManager,
    provider: string,
    threshold: number,
    error: string,
  ): Promise<{ state: BreakerState; failures: number; opened: boolean }> {
    const [row] = await updateReturning<{ state: BreakerState; failures: number; opened: boolean }>(
      manager,
      `UPDATE ${B} AS b SET "failures" = b."failures" + 1, "last_error" = $3, "updated_at" = now(), "probe_until" = NULL,
         "state" = CASE WHEN b."state" = 'half_open' OR b."failures" + 1 >= $2 THEN 'open' ELSE b."state" END,
         "opened_at" = CASE WHEN b."state" = 'half_open' OR (b."state" = 'closed' AND b."failures" + 1 >= $2) THEN now() ELSE b."opened_at" END
       FROM (SELECT "state" AS previous FROM ${B} WHERE "provider" = $1 FOR UPDATE) AS old
       WHERE b."provider" = $1
       RETURNING b."state", b."failures", (old.previous <> 'open' AND b."state" = 'open') AS opened`,
      [provider, threshold, error.slice(0, 500)],
    );
    return row ?? { state: 'closed', failures: 0, opened: false };
  }

  async reset(provider?: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${B} SET "state" = 'closed', "failures" = 0, "opened_at" = NULL, "probe_until" = NULL, "updated_at" = now() WHERE $1::text IS NULL OR "provider" = $1`,
      [provider ?? null],
    );
  }
}
