import { AckPolicy, connect, credsAuthenticator, StorageType } from 'nats';
import type { NatsConnection } from 'nats';

import { percentile } from './stats';

const encoder = new TextEncoder();

/** Raw JetStream, same server and same payload size: publish one, pull it, ack it — N times. */
export async function rawRoundTrip(
  url: string,
  creds: string,
  n: number,
  payloadBytes: number,
): Promise<{ p50: number; p99: number }> {
  const nc = await connect({ servers: url, authenticator: credsAuthenticator(encoder.encode(creds)) });
  try {
    const { consumer, cleanup } = await setup(nc, 'BENCH_RTT', 'bench.rtt');
    const js = nc.jetstream();
    const payload = encoder.encode('x'.repeat(payloadBytes));
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await js.publish('bench.rtt', payload, { msgID: `rtt-${i}` });
      const it = await consumer.fetch({ max_messages: 1, expires: 5_000 });
      for await (const m of it) {
        m.ack();
      }
      samples.push(performance.now() - t0);
    }
    await cleanup();
    return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  } finally {
    await nc.close();
  }
}

/** Raw JetStream catch-up: N messages stored, then pulled in batches of 500 and acked. */
export async function rawCatchUp(url: string, creds: string, n: number, payloadBytes: number): Promise<number> {
  const nc = await connect({ servers: url, authenticator: credsAuthenticator(encoder.encode(creds)) });
  try {
    const { consumer, cleanup } = await setup(nc, 'BENCH_CATCHUP', 'bench.catchup');
    const js = nc.jetstream();
    const payload = encoder.encode('x'.repeat(payloadBytes));
    const pending = [];
    for (let i = 0; i < n; i++) {
      pending.push(js.publish('bench.catchup', payload, { msgID: `c-${i}` }));
    }
    await Promise.all(pending);
    const t0 = performance.now();
    let got = 0;
    while (got < n) {
      const it = await consumer.fetch({ max_messages: 500, expires: 5_000 });
      for await (const m of it) {
        m.ack();
        got++;
      }
    }
    const elapsed = performance.now() - t0;
    await cleanup();
    return elapsed;
  } finally {
    await nc.close();
  }
}

async function setup(nc: NatsConnection, stream: string, subject: string) {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.File });
  await jsm.consumers.add(stream, { durable_name: 'bench', ack_policy: AckPolicy.Explicit, filter_subject: subject });
  const consumer = await nc.jetstream().consumers.get(stream, 'bench');
  return { consumer, cleanup: () => jsm.streams.delete(stream) };
}
