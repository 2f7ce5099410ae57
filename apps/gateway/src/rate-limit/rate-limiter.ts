import { createHash, randomBytes } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { KV, KvEntry, NatsConnection, QueuedIterator } from 'nats';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

import { KvBuckets } from '@waggle/contracts';
import { openKvBucket } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, METRICS, NATS } from '@waggle/service-kit';

import { GatewayConfig } from '../gateway.config';

/** What is counted, each in its own one-minute windows. */
export const RATE_POLICIES = [
  /** Requests per credential (API token or machine). */
  'requests',
  /** Failed authentications per address, and per presented token. */
  'auth-failures-address',
  'auth-failures-credential',
  /** Failed joins per address, and per presented join token. */
  'join-failures-address',
  'join-failures-credential',
  /** Failed sign-ins (wrong name or password) per address, and per account name. */
  'login-failures-address',
  'login-failures-account',
  /** Join attempts per address, and per join token. */
  'joins-address',
  'joins-token',
] as const;
export type RatePolicy = (typeof RATE_POLICIES)[number];

/** A counting decision, and what the RateLimit headers say about it. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends (Retry-After when refused). */
  resetSeconds: number;
}

const WINDOW_MS = 60_000;
/** How often each replica publishes the counts that changed (and so how stale another replica's view may be). */
export const FLUSH_MS = 250;
/** Keys tracked at most; past that new keys pass uncounted rather than grow memory without bound. */
const MAX_KEYS = 200_000;

interface WindowCount {
  /** This replica's count. */
  mine: number;
  /** Other replicas' counts, as last published, and their sum. */
  others: Map<string, number>;
  othersSum: number;
}

/**
 * Fixed one-minute windows, counted locally and shared through NATS KV in the background.
 *
 * A request costs a map lookup and an increment: no database and no network on the request
 * path. Every FLUSH_MS each replica puts its own count of every key that changed
 * (`<window>.<policy>.<subject>.<replica>`, one KV put per changed key, however many
 * requests it stands for), and every replica watches the bucket, so each sees the others'
 * counts within about FLUSH_MS. A limit is therefore exact on one replica and may be
 * overshot by what other replicas admit in one flush interval (at most replicas × rate ×
 * 0.25 s). If NATS is away, each replica still enforces the limit on its own count. The
 * bucket is in memory and its entries expire after a few minutes: a NATS restart forgets
 * the current minute, nothing more. Subjects (addresses, tokens) are hashed before they
 * reach NATS.
 */
@Injectable()
export class RateLimiter implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly replica = randomBytes(6).toString('hex');
  private readonly counts = new Map<string, WindowCount>();
  private readonly dirty = new Set<string>();
  private readonly refused: Counter<'policy'>;
  private readonly abort = new AbortController();
  private kv?: KV;
  private watcher?: QueuedIterator<KvEntry>;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private degraded = false;
  private sweptWindow = 0;

  constructor(
    private readonly config: GatewayConfig,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) registry: Registry,
  ) {
    this.refused = new Counter({
      name: 'waggle_gateway_rate_limited_total',
      help: 'Requests refused with 429, by what was counted',
      labelNames: ['policy'],
      registers: [registry],
    });
  }

  async onApplicationBootstrap() {
    this.kv = await openKvBucket(this.nc, KvBuckets.rateLimits, this.config.WAGGLE_JETSTREAM_REPLICAS);
    void this.watch(this.kv);
    this.timer = setInterval(() => {
      this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
    }, FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown() {
    clearInterval(this.timer);
    this.abort.abort();
    this.watcher?.stop();
    await this.flushing;
  }

  /** Counts one event for `subject` under `policy`, unless it is already at `limit` (0: no limit). */
  hit(policy: RatePolicy, subject: string, limit: number): RateDecision {
    return this.decide(policy, subject, limit, true);
  }

  /** Whether `subject` is already at `limit` under `policy`, without counting anything. */
  peek(policy: RatePolicy, subject: string, limit: number): RateDecision {
    return this.decide(policy, subject, limit, false);
  }

  private decide(policy: RatePolicy, subject: string, limit: number, count: boolean): RateDecision {
    const now = Date.now();
    const window = Math.floor(now / WINDOW_MS);
    const resetSeconds = Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000));
    if (limit <= 0) {
      return { allowed: true, limit, remaining: Number.POSITIVE_INFINITY, resetSeconds };
    }
    const key = `${window}.${policy}.${subjectHash(subject)}`;
    let entry = this.counts.get(key);
    const used = entry ? entry.mine + entry.othersSum : 0;
    if (used >= limit) {
      if (count) {
        this.refused.inc({ policy });
      }
      return { allowed: false, limit, remaining: 0, resetSeconds };
    }
    if (count) {
      if (!entry && this.counts.size < MAX_KEYS) {
        entry = { mine: 0, others: new Map(), othersSum: 0 };
        this.counts.set(key, entry);
      }
      if (entry) {
        entry.mine++;
        this.dirty.add(key);
      }
    }
    return { allowed: true, limit, remaining: limit - used - (count ? 1 : 0), resetSeconds };
  }

  /** Puts this replica's count of every key that changed since the last flush; drops past windows. */
  private async flush(): Promise<void> {
    const window = Math.floor(Date.now() / WINDOW_MS);
    if (window !== this.sweptWindow) {
      this.sweptWindow = window;
      for (const key of this.counts.keys()) {
        if (windowOf(key) < window) {
          this.counts.delete(key);
          this.dirty.delete(key);
        }
      }
    }
    const kv = this.kv;
    if (!kv || !this.dirty.size) {
      return;
    }
    const keys = [...this.dirty];
    this.dirty.clear();
    const results = await Promise.allSettled(
      keys.map(async (key) => {
        const entry = this.counts.get(key);
        if (entry) {
          await kv.put(`${key}.${this.replica}`, String(entry.mine));
        }
      }),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length) {
      keys.forEach((key, i) => results[i]?.status === 'rejected' && this.dirty.add(key));
      // The bucket may have gone with a lost JetStream store: opening it creates it again.
      await openKvBucket(this.nc, KvBuckets.rateLimits, this.config.WAGGLE_JETSTREAM_REPLICAS).then(
        (kv) => (this.kv = kv),
        () => undefined,
      );
      if (!this.degraded) {
        this.degraded = true;
        this.logger.warn(
          { err: (failed[0] as PromiseRejectedResult).reason, failed: failed.length },
          'rate-limit counts could not be shared; each replica counts alone until NATS answers',
        );
      }
    } else if (this.degraded) {
      this.degraded = false;
      this.logger.info('rate-limit counts are shared again');
    }
  }

  /** Follows every replica's puts (the latest of each key first, then updates) for as long as the gateway runs. */
  private async watch(kv: KV): Promise<void> {
    // Ends with the gateway, or with its NATS connection (drained at shutdown).
    while (!this.abort.signal.aborted && !this.nc.isClosed()) {
      try {
        this.watcher = await kv.watch({ key: '>' });
        for await (const entry of this.watcher) {
          this.receive(entry);
        }
      } catch (error) {
        if (!this.abort.signal.aborted && !this.nc.isClosed()) {
          this.logger.warn({ err: error }, 'rate-limit watch interrupted; resuming');
        }
      }
      if (!this.abort.signal.aborted && !this.nc.isClosed()) {
        await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
      }
    }
  }

  private receive(entry: KvEntry) {
    const at = entry.key.lastIndexOf('.');
    const key = entry.key.slice(0, at);
    const replica = entry.key.slice(at + 1);
    if (replica === this.replica || entry.operation !== 'PUT') {
      return;
    }
    if (windowOf(key) < Math.floor(Date.now() / WINDOW_MS)) {
      return;
    }
    const count = Number(entry.string());
    if (!Number.isSafeInteger(count)) {
      return;
    }
    let counted = this.counts.get(key);
    if (!counted) {
      if (this.counts.size >= MAX_KEYS) {
        return;
      }
      counted = { mine: 0, others: new Map(), othersSum: 0 };
      this.counts.set(key, counted);
    }
    const before = counted.others.get(replica) ?? 0;
    if (count > before) {
      counted.others.set(replica, count);
      counted.othersSum += count - before;
    }
  }
}

/** 128 bits of the subject's SHA-256, in characters a KV key may hold: no address or token reaches NATS. */
function subjectHash(subject: string): string {
  return createHash('sha256').update(subject).digest('base64url').slice(0, 22);
}

function windowOf(key: string): number {
  return Number(key.slice(0, key.indexOf('.')));
}
