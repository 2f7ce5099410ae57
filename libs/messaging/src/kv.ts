import { StorageType } from 'nats';
import type { KV, NatsConnection } from 'nats';

/** A key-value bucket declared in contracts (KvBuckets). */
export interface KvBucketSpec {
  name: string;
  /** Entries expire this long after their last put. */
  ttlMs: number;
}

/**
 * Opens a declared bucket, creating it on first use (safe from every replica): the last value
 * per key only, in memory, each entry gone `ttlMs` after its last put. For counters and other
 * state that may be lost with the NATS server.
 */
export function openKvBucket(nc: NatsConnection, bucket: KvBucketSpec, replicas: number): Promise<KV> {
  return nc.jetstream().views.kv(bucket.name, {
    history: 1,
    ttl: bucket.ttlMs,
    storage: StorageType.Memory,
    replicas,
  });
}
