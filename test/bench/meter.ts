import { setTimeout as sleep } from 'node:timers/promises';

import { Client } from 'pg';

import { postgresBackends, readStat } from './proc';

/** A set of processes whose CPU is reported under one name. */
export interface ProcessProbe {
  name: string;
  /** The processes now (asked again every sample: backends and agents come and go). */
  pids: () => number[];
  /** Also report the CPU of their waited-for children, as `<name> tasks` (an agent's task processes). */
  children?: boolean;
}

/** What a window cost, divided by the operations done in it. */
export interface Counts {
  ops: number;
  seconds: number;
  /** Postgres transactions committed in the database (read-only ones included), per op; undefined: not measured. */
  commits?: number;
  /** Rows inserted + updated + deleted, per op. */
  rows?: number;
  /** Messages nats-server received from clients (publishes, acks, pull requests, requests and replies), per op. */
  natsIn?: number;
  /** Messages nats-server delivered to clients, per op. */
  natsOut?: number;
  /** CPU ms per op, by process name. */
  cpuMs: Record<string, number>;
}

interface PgCounters {
  commits: number;
  rows: number;
}

interface NatsCounters {
  in: number;
  out: number;
}

const perOp = (end: number | undefined, start: number | undefined, ops: number, minus = 0) =>
  end === undefined || start === undefined ? undefined : (end - start - minus) / ops;

/**
 * A Postgres backend publishes its counters when it goes idle, but at most once a second;
 * what it did within a second of its last report waits for its idle timeout, 10 s
 * (PGSTAT_IDLE_INTERVAL, Postgres 15+). Counters of someone else's backends are read that long after.
 */
const PG_STATS_LATE_MS = 10_500;
/** After our own backends were told to report (pg_stat_force_next_flush), they do so as they go idle. */
const PG_STATS_FORCED_MS = 300;
const SAMPLE_MS = 200;

export interface MeterOptions {
  /** The database to count commits and rows of (none: not counted). */
  postgres?: {
    server: string;
    database: string;
    /** Makes the database's backends report now (our own pool); resolves with the commits that took. */
    flush?: () => Promise<number>;
  };
  /** nats-server's monitoring base URL (none: NATS not counted). */
  natsMonitorUrl?: string;
  probes: ProcessProbe[];
}

/**
 * Counts what a window of work cost: Postgres commits and rows of one database (pg_stat_database,
 * read from the server's maintenance database so the reads are not counted), NATS messages
 * (nats-server's /varz) and CPU per process (/proc/<pid>/stat, sampled so that a backend that
 * exits mid-window still counts up to its last sample).
 */
export class Meter {
  private readonly admin?: Client;
  private pgStart?: PgCounters;
  private natsStart?: NatsCounters;
  private startedAt = 0;
  private readonly first = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private sampler?: NodeJS.Timeout;
  /** NATS deliveries that the bench itself caused (its own subscriptions), subtracted from natsOut. */
  ownNatsOut = 0;

  private constructor(private readonly options: MeterOptions) {
    this.admin = options.postgres ? new Client({ connectionString: options.postgres.server }) : undefined;
  }

  static async open(options: MeterOptions): Promise<Meter> {
    const meter = new Meter(options);
    await meter.admin?.connect();
    return meter;
  }

  /** The Postgres backends of `database` as a probe. */
  static postgres(database: string, name = 'postgres'): ProcessProbe {
    return { name, pids: () => postgresBackends(database) };
  }

  /** Waits until counters of work done before now have reached pg_stat_database. */
  static settle(): Promise<void> {
    return sleep(PG_STATS_LATE_MS);
  }

  async close(): Promise<void> {
    this.stopSampling();
    await this.admin?.end();
  }

  /**
   * Opens a window. The caller makes sure the database was quiet for the last 10 s (`settle`,
   * or the previous window's awaited `stop`), else earlier work is counted in this window.
   */
  async start(): Promise<void> {
    this.first.clear();
    this.last.clear();
    this.ownNatsOut = 0;
    this.sample(true);
    [this.pgStart, this.natsStart] = await Promise.all([this.pgCounters(), this.natsCounters()]);
    this.startedAt = performance.now();
    this.sampler = setInterval(() => this.sample(false), SAMPLE_MS);
  }

  /** Closes the window and waits for the Postgres counters: `end` and its `settled` in one. */
  async stop(ops: number): Promise<Counts> {
    return (await this.end(ops)).settled();
  }

  /**
   * Closes the window now (CPU and NATS are read before this resolves) and divides by `ops`;
   * `settled` resolves once Postgres has reported, up to 10.5 s later. Work that touches
   * neither this database nor this nats-server may run meanwhile. `withoutPostgres` gives the
   * rest at once.
   */
  async end(ops: number): Promise<{ settled: () => Promise<Counts>; withoutPostgres: () => Counts }> {
    const endedAt = performance.now();
    const seconds = (endedAt - this.startedAt) / 1000;
    this.sample(false);
    this.stopSampling();
    const ownNatsOut = this.ownNatsOut;
    const nats = await this.natsCounters();
    const cpuMs: Record<string, number> = {};
    for (const [key, last] of this.last) {
      const name = key.slice(0, key.lastIndexOf('#'));
      cpuMs[name] = (cpuMs[name] ?? 0) + (last - (this.first.get(key) ?? 0)) / ops;
    }
    const settled = async (): Promise<Counts> => {
      let ownCommits = 0;
      if (this.options.postgres?.flush) {
        ownCommits = await this.options.postgres.flush();
        await sleep(PG_STATS_FORCED_MS);
      } else if (this.admin) {
        await sleep(Math.max(0, endedAt + PG_STATS_LATE_MS - performance.now()));
      }
      const pg = await this.pgCounters();
      return {
        ops,
        seconds,
        commits: perOp(pg?.commits, this.pgStart?.commits, ops, ownCommits),
        rows: perOp(pg?.rows, this.pgStart?.rows, ops),
        natsIn: perOp(nats?.in, this.natsStart?.in, ops),
        natsOut: perOp(nats?.out, this.natsStart?.out, ops, ownNatsOut),
        cpuMs,
      };
    };
    const withoutPostgres = (): Counts => ({
      ops,
      seconds,
      natsIn: perOp(nats?.in, this.natsStart?.in, ops),
      natsOut: perOp(nats?.out, this.natsStart?.out, ops, ownNatsOut),
      cpuMs,
    });
    return { settled, withoutPostgres };
  }

  /** The database's commits and rows as pg_stat_database has them now (reported up to 10 s late). */
  async postgresNow(): Promise<{ commits: number; rows: number }> {
    return (await this.pgCounters()) ?? { commits: 0, rows: 0 };
  }

  private stopSampling() {
    if (this.sampler) {
      clearInterval(this.sampler);
      this.sampler = undefined;
    }
  }

  private sample(atStart: boolean) {
    for (const probe of this.options.probes) {
      for (const pid of probe.pids()) {
        const stat = readStat(pid);
        if (!stat) {
          continue;
        }
        const record = (name: string, value: number) => {
          const key = `${name}#${pid}`;
          // A process first seen mid-window started in it: all its CPU belongs to the window.
          if (!this.first.has(key)) {
            this.first.set(key, atStart ? value : 0);
          }
          this.last.set(key, value);
        };
        record(probe.name, stat.cpuMs);
        if (probe.children) {
          record(`${probe.name} tasks`, stat.childrenCpuMs);
        }
      }
    }
  }

  private async pgCounters(): Promise<PgCounters | undefined> {
    if (!this.admin) {
      return undefined;
    }
    const { rows } = await this.admin.query<{ commits: string; rows: string }>(
      `SELECT xact_commit AS commits, tup_inserted + tup_updated + tup_deleted AS rows
         FROM pg_stat_database WHERE datname = $1`,
      [this.options.postgres?.database],
    );
    return { commits: Number(rows[0]?.commits ?? 0), rows: Number(rows[0]?.rows ?? 0) };
  }

  private async natsCounters(): Promise<NatsCounters | undefined> {
    if (!this.options.natsMonitorUrl) {
      return undefined;
    }
    const varz = (await (await fetch(`${this.options.natsMonitorUrl}/varz`)).json()) as {
      in_msgs: number;
      out_msgs: number;
    };
    return { in: varz.in_msgs, out: varz.out_msgs };
  }
}
