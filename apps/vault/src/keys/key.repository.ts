import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { singleRow, updateReturning } from '@waggle/persistence';

export interface KeyVersionRow {
  version: number;
  state: 'active' | 'retiring' | 'retired';
  wrapped_key: Buffer | null;
  created_at: Date;
  retired_at: Date | null;
  data_keys: number;
}

/** The master key's check value and the key versions: the only I/O of the key hierarchy. */
@Injectable()
export class KeyRepository {
  constructor(private readonly db: DataSource) {}

  async masterKeyRow(): Promise<{ check_value: Buffer; transport_seed: Buffer } | undefined> {
    const rows = await this.db.query<{ check_value: Buffer; transport_seed: Buffer }[]>(
      `SELECT "check_value", "transport_seed" FROM "vault"."master_key" WHERE "id" = 1`,
    );
    return rows[0];
  }

  /**
   * First start: the master key's check value and key version 1, together. Two replicas
   * starting at once both try; one wins, the other reads what it wrote.
   */
  async initialize(checkValue: Buffer, transportSeed: Buffer, firstVersion: Buffer): Promise<void> {
    await this.db.transaction(async (m) => {
      const inserted = await m.query<unknown[]>(
        `INSERT INTO "vault"."master_key" ("id", "check_value", "transport_seed") VALUES (1, $1, $2) ON CONFLICT ("id") DO NOTHING RETURNING "id"`,
        [checkValue, transportSeed],
      );
      if (inserted.length) {
        await m.query(
          `INSERT INTO "vault"."key_versions" ("version", "state", "wrapped_key") VALUES (1, 'active', $1)`,
          [firstVersion],
        );
      }
    });
  }

  /** Every version with how many data keys each wraps now. */
  async versions(): Promise<KeyVersionRow[]> {
    return this.db.query<KeyVersionRow[]>(
      `SELECT k."version", k."state", k."wrapped_key", k."created_at", k."retired_at",
              (SELECT count(*)::int FROM "vault"."secrets" s WHERE s."key_version" = k."version") AS "data_keys"
       FROM "vault"."key_versions" k ORDER BY k."version"`,
    );
  }

  /** A master key change: every live version's key re-wrapped under the new master key, and its check value, at once. */
  async replaceMasterKey(
    checkValue: Buffer,
    transportSeed: Buffer,
    rewrapped: { version: number; wrappedKey: Buffer }[],
  ): Promise<void> {
    await this.db.transaction(async (m) => {
      for (const { version, wrappedKey } of rewrapped) {
        await m.query(`UPDATE "vault"."key_versions" SET "wrapped_key" = $2 WHERE "version" = $1`, [
          version,
          wrappedKey,
        ]);
      }
      await m.query(
        `UPDATE "vault"."master_key" SET "check_value" = $1, "transport_seed" = $2, "changed_at" = now() WHERE "id" = 1`,
        [checkValue, transportSeed],
      );
    });
  }

  /**
   * Starts a rotation: the active version becomes `retiring` and a new one (wrapped by the
   * master key) becomes active. Writers hold the active row FOR SHARE while they write, so once
   * this commits no data key is written under the old version any more. Null when a rotation
   * is already under way.
   */
  async beginRotation(wrap: (version: number) => Buffer): Promise<{ previous: number; next: number } | null> {
    return this.db.transaction(async (m) => {
      const retiring = await m.query<unknown[]>(
        `SELECT 1 FROM "vault"."key_versions" WHERE "state" = 'retiring' FOR UPDATE`,
      );
      if (retiring.length) {
        return null;
      }
      const [active] = await m.query<{ version: number }[]>(
        `SELECT "version" FROM "vault"."key_versions" WHERE "state" = 'active' FOR UPDATE`,
      );
      if (!active) {
        throw new Error('the vault has no active key version');
      }
      const { next } = singleRow(
        await m.query<{ next: number }[]>(`SELECT max("version") + 1 AS "next" FROM "vault"."key_versions"`),
        'next key version',
      );
      await m.query(`UPDATE "vault"."key_versions" SET "state" = 'retiring' WHERE "version" = $1`, [active.version]);
      await m.query(
        `INSERT INTO "vault"."key_versions" ("version", "state", "wrapped_key") VALUES ($1, 'active', $2)`,
        [next, wrap(next)],
      );
      return { previous: active.version, next };
    });
  }

  /** The version still being retired by a rotation that stopped half way (a crash), if any. */
  async retiringVersion(): Promise<number | undefined> {
    const rows = await this.db.query<{ version: number }[]>(
      `SELECT "version" FROM "vault"."key_versions" WHERE "state" = 'retiring'`,
    );
    return rows[0]?.version;
  }

  /** Destroys a version's key once no data key is wrapped under it; false while some still are. */
  async retire(version: number): Promise<boolean> {
    const rows = await updateReturning(
      this.db,
      `UPDATE "vault"."key_versions" SET "state" = 'retired', "wrapped_key" = NULL, "retired_at" = now()
       WHERE "version" = $1 AND "state" = 'retiring'
         AND NOT EXISTS (SELECT 1 FROM "vault"."secrets" WHERE "key_version" = $1)
       RETURNING "version"`,
      [version],
    );
    return rows.length === 1;
  }
}
