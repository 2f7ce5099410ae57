import type { Queryable } from './database';
import { updateReturning } from './database';

/**
 * A table whose rows keep the Idempotency-Key of the request that made them, in the columns
 * `idempotency_key` (unique while set) and `idempotency_fingerprint`. Keeping the key on the
 * row it made (not in a side table) writes both in one statement of one transaction: a
 * crash cannot leave a key without its row or a row without its key.
 */
export interface IdempotentTable {
  /** Quoted and schema-qualified: `"registry"."messages"`. */
  table: string;
  /** The column holding when the row was made; a key lives that long plus the lifetime. */
  createdAt: string;
  /** Further columns that only serve the key (cleared with it). */
  alsoClear?: readonly string[];
}

const cleared = (spec: IdempotentTable) =>
  ['idempotency_key', 'idempotency_fingerprint', ...(spec.alsoClear ?? [])].map((c) => `"${c}" = NULL`).join(', ');

/**
 * The row a live key made, if any. A key past its lifetime that the prune has not reached yet
 * is released in the same statement, so the create that follows may take it.
 */
export async function findByIdempotencyKey<T>(
  db: Queryable,
  spec: IdempotentTable,
  key: string,
  ttlSeconds: number,
): Promise<T | undefined> {
  const rows = await db.query<T[]>(
    `WITH "released" AS (
       UPDATE ${spec.table} SET ${cleared(spec)}
       WHERE "idempotency_key" = $1 AND "${spec.createdAt}" <= now() - make_interval(secs => $2)
     )
     SELECT * FROM ${spec.table} WHERE "idempotency_key" = $1 AND "${spec.createdAt}" > now() - make_interval(secs => $2)`,
    [key, ttlSeconds],
  );
  return rows[0];
}

/** Clears keys past their lifetime, a batch at a time; returns how many rows were cleared. */
export async function pruneIdempotencyKeys(
  db: Queryable,
  spec: IdempotentTable,
  ttlSeconds: number,
  batch = 5_000,
): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await updateReturning<unknown>(
      db,
      `UPDATE ${spec.table} SET ${cleared(spec)}
       WHERE "idempotency_key" IS NOT NULL AND ctid = ANY(ARRAY(
         SELECT ctid FROM ${spec.table}
         WHERE "idempotency_key" IS NOT NULL AND "${spec.createdAt}" <= now() - make_interval(secs => $1)
         LIMIT $2
       )) RETURNING 1`,
      [ttlSeconds, batch],
    );
    total += rows.length;
    if (rows.length < batch) {
      return total;
    }
  }
}
