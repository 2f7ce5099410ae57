import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { freePort } from './ports';

const run = promisify(execFile);

/** The newest Debian Postgres server binaries (`/usr/lib/postgresql/<version>/bin`). */
function debianPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  const newest = versions.at(-1);
  if (!newest) {
    throw new Error("no Postgres server binaries under /usr/lib/postgresql (install Debian's postgresql)");
  }
  return join(root, newest, 'bin');
}

/**
 * A Postgres cluster of a test's own (Debian's initdb and pg_ctl), on a free port under a
 * folder the test owns, that the test may stop and start at will: never the machine's shared
 * server. As root, Postgres runs as the `postgres` user, which owns the folder.
 */
export class ThrowawayPostgres {
  private readonly bin = debianPostgresBin();
  private readonly data: string;

  constructor(
    private readonly dir: string,
    readonly port: number,
  ) {
    this.data = join(dir, 'data');
  }

  /**
   * A cluster in a fresh folder on a free port (not started). As root the folder is made
   * where the `postgres` user can reach it (/var/tmp: the temp folder may be closed to others).
   */
  static async create(): Promise<ThrowawayPostgres> {
    const root = process.getuid?.() === 0;
    const base = await mkdtemp(join(root ? '/var/tmp' : tmpdir(), 'waggle-pg-'));
    if (root) {
      await chmod(base, 0o711);
    }
    return new ThrowawayPostgres(join(base, 'cluster'), await freePort());
  }

  /** Stops the server and deletes everything it stored. */
  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    await rm(join(this.dir, '..'), { recursive: true, force: true });
  }

  /** Trust authentication on 127.0.0.1 only, user `postgres`. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    if (!existsSync(join(this.data, 'PG_VERSION'))) {
      await mkdir(this.dir, { recursive: true });
      if (process.getuid?.() === 0) {
        const { stdout } = await run('id', ['-u', 'postgres']);
        const { stdout: gid } = await run('id', ['-g', 'postgres']);
        await chown(this.dir, Number(stdout.trim()), Number(gid.trim()));
      }
      await this.as(join(this.bin, 'initdb'), [
        '-D',
        this.data,
        '-U',
        'postgres',
        '-A',
        'trust',
        '--no-sync',
        '-E',
        'UTF8',
        '--locale=C',
      ]);
    }
    await this.as(join(this.bin, 'pg_ctl'), [
      '-D',
      this.data,
      '-o',
      `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off`,
      '-l',
      join(this.dir, 'server.log'),
      '-w',
      'start',
    ]);
  }

  /** A fast shutdown: open connections are cut, as when a server is stopped or restarted. */
  async stop(): Promise<void> {
    if (existsSync(join(this.data, 'postmaster.pid'))) {
      await this.as(join(this.bin, 'pg_ctl'), ['-D', this.data, '-m', 'fast', '-w', 'stop']);
    }
  }

  /** Runs a server program as the `postgres` user when this process is root (Postgres refuses root). */
  private async as(program: string, args: string[]): Promise<void> {
    if (process.getuid?.() === 0) {
      await run('runuser', ['-u', 'postgres', '--', program, ...args], { cwd: this.dir });
    } else {
      await run(program, args, { cwd: this.dir });
    }
  }
}
