import { randomBytes } from 'node:crypto';

import { Pool } from 'pg';

import { createDatabase, dropDatabase } from '@waggle/local-infra';

import { runConcurrent } from './load';

/** Connections of the raw pool: as many as one hub service's pool (libs/persistence), and the server is shared. */
const POOL_SIZE = 10;

/** Raw Postgres on the hub's server: a database of its own with one table, a pool of ten connections. */
export class RawPostgres {
  private constructor(
    private readonly server: string,
    readonly database: string,
    private readonly pool: Pool,
  ) {}

  static async open(server: string): Promise<RawPostgres> {
    const database = `waggle_bench_raw_${randomBytes(4).toString('hex')}`;
    const url = await createDatabase(server, database);
    // Connections stay open (no idle timeout), as the hub's do while it is busy.
    const pool = new Pool({ connectionString: url, max: POOL_SIZE, idleTimeoutMillis: 0 });
    await pool.query('CREATE TABLE bench (id bigserial PRIMARY KEY, body text NOT NULL)');
    // Open every connection before the clock starts, as a hub's pool is open.
    const clients = await Promise.all(Array.from({ length: POOL_SIZE }, () => pool.connect()));
    clients.forEach((c) => c.release());
    return new RawPostgres(server, database, pool);
  }

  /** `n` single-row INSERTs by `concurrency` callers sharing the pool, each its own transaction (autocommit); seconds taken. */
  insert(concurrency: number, n: number, body: string): Promise<number> {
    return runConcurrent(concurrency, n, async () => {
      await this.pool.query('INSERT INTO bench (body) VALUES ($1)', [body]);
    });
  }

  /** Makes every connection's backend report its counters now; resolves with the commits that took (Postgres 15+). */
  async flush(): Promise<number> {
    const clients = await Promise.all(Array.from({ length: POOL_SIZE }, () => this.pool.connect()));
    try {
      await Promise.all(clients.map((c) => c.query('SELECT pg_stat_force_next_flush()')));
    } finally {
      clients.forEach((c) => c.release());
    }
    return POOL_SIZE;
  }

  async close(): Promise<void> {
    await this.pool.end();
    await dropDatabase(this.server, this.database);
  }
}
