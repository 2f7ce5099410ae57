import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DataSourceOptions, EntitySchema, MixedList } from 'typeorm';

export interface DatabaseOptions {
  url: string;
  /** The service's own Postgres schema; its migrations table lives in it too. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  poolSize?: number;
  applicationName: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function dataSourceOptions(options: DatabaseOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName: options.applicationName,
    extra: { max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 },
  };
}

/** The schema must exist before TypeORM can create its migrations table in it. */
export async function ensureSchema(url: string, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name ${schema}`);
  }
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (error) {
    // Two replicas starting together race on CREATE SCHEMA; the loser sees a unique violation.
    if ((error as { code?: string }).code !== '23505') {
      throw error;
    }
  } finally {
    await client.end();
  }
}

/** Opens the service's database and applies its pending migrations (the same runner tests use). */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  await ensureSchema(options.url, options.schema);
  const dataSource = new DataSource(dataSourceOptions(options));
  await dataSource.initialize();
  // Replicas starting together take turns: the second finds nothing left to run.
  const lock = new Client({ connectionString: options.url, connectionTimeoutMillis: 5_000 });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`${options.schema}.migrations`]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await lock.end();
  }
  return dataSource;
}

/** Whether the database answers, for readiness checks. */
export async function databaseReachable(dataSource: DataSource): Promise<boolean> {
  try {
    await dataSource.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/** Anything that can run a query: a DataSource or a transaction's EntityManager. */
export interface Queryable {
  query<T>(sql: string, parameters?: unknown[]): Promise<T>;
}

/**
 * Rows of an `UPDATE … RETURNING` or `DELETE … RETURNING` (TypeORM answers those with
 * `[rows, affectedCount]`, unlike SELECT and INSERT).
 */
export async function updateReturning<T>(db: Queryable, sql: string, parameters: unknown[] = []): Promise<T[]> {
  const [rows] = await db.query<[T[], number]>(sql, parameters);
  return rows;
}

/**
 * The row a query always returns (`INSERT … RETURNING`, an aggregate, a function call). None
 * means the database broke its promise, so it throws rather than hand back undefined.
 */
export function singleRow<T>(rows: readonly T[], what: string): T {
  const row = rows[0];
  if (row === undefined) {
    throw new Error(`${what}: the query returned no row`);
  }
  return row;
}

/** Seconds a client is told to wait (Retry-After) when the database cannot be reached. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Postgres SQLSTATE classes and socket errors that mean "the database is not there right now", not "this query is wrong". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Connection is not established|connect ECONNREFUSED|Client has encountered a connection error/i;

/**
 * Whether an error (from pg, or TypeORM wrapping pg) says the database cannot be reached:
 * those are answered 503 with Retry-After, not 500, because a retry will succeed once it is back.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, hops = 0; e && typeof e === 'object' && hops < 4; hops++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) {
      return true;
    }
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) {
      return true;
    }
    e = (e as { driverError?: unknown; cause?: unknown }).driverError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}
