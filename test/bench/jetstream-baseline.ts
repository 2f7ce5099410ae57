import { AckPolicy, connect, credsAuthenticator, StorageType } from 'nats';
import type { NatsConnection } from 'nats';

import { runAtRate, runConcurrent } from './load';

const encoder = new TextEncoder();

async function connectRaw(url: string, creds: string): Promise<NatsConnection> {
  return connect({ servers: url, authenticator: credsAuthenticator(encoder.encode(creds)), name: 'bench' });
}

async function makeStream(nc: NatsConnection, stream: string, subject: string) {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.File });
  await jsm.consumers.add(stream, { durable_name: 'bench', ack_policy: AckPolicy.Explicit, filter_subject: subject });
  return { jsm, cleanup: () => jsm.streams.delete(stream).then(() => undefined) };
}

/**
 * Raw JetStream at a steady rate, same server and payload size: publish (ack awaited) →
 * a pull consumer receives it → ack. Latency per message, in ms.
 */
export async function rawLatencyAtRate(
  url: string,
  creds: string,
  rate: number,
  n: number,
  payloadBytes: number,
): Promise<number[]> {
  const nc = await connectRaw(url, creds);
  try {
    const { cleanup } = await makeStream(nc, 'BENCH_RATE', 'bench.rate');
    const js = nc.jetstream();
    const consumer = await js.consumers.get('BENCH_RATE', 'bench');
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const messages = await consumer.consume({ max_messages: 100 });
    const received = (async () => {
      for await (const m of messages) {
        const at = performance.now();
        m.ack();
        latencies.push(at - (sentAt.get(m.headers?.get('Nats-Msg-Id') ?? '') ?? at));
        if (latencies.length >= n) {
          break;
        }
      }
    })();
    const payload = encoder.encode('x'.repeat(payloadBytes));
    await runAtRate(rate, n, async (i) => {
      const id = `rate-${i}`;
      sentAt.set(id, performance.now());
      await js.publish('bench.rate', payload, { msgID: id });
    });
    await received;
    await cleanup();
    return latencies;
  } finally {
    await nc.close();
  }
}

/** Raw JetStream publishes with awaited acks, `concurrency` at a time on one connection; seconds taken. */
export async function rawPublish(
  url: string,
  creds: string,
  concurrency: number,
  n: number,
  payloadBytes: number,
): Promise<number> {
  const nc = await connectRaw(url, creds);
  try {
    const { cleanup } = await makeStream(nc, 'BENCH_PUB', 'bench.pub');
    const js = nc.jetstream();
    const payload = encoder.encode('x'.repeat(payloadBytes));
    const seconds = await runConcurrent(concurrency, n, async (i) => {
      await js.publish('bench.pub', payload, { msgID: `pub-${i}` });
    });
    await cleanup();
    return seconds;
  } finally {
    await nc.close();
  }
}

/** Stores `n` messages on a stream with a durable consumer, for a fresh process to drain. */
export async function fillForDrain(
  url: string,
  creds: string,
  n: number,
  payloadBytes: number,
): Promise<{ stream: string; durable: string; cleanup: () => Promise<void> }> {
  const nc = await connectRaw(url, creds);
  const { cleanup } = await makeStream(nc, 'BENCH_DRAIN', 'bench.drain');
  const js = nc.jetstream();
  const payload = encoder.encode('x'.repeat(payloadBytes));
  await runConcurrent(256, n, async (i) => {
    await js.publish('bench.drain', payload, { msgID: `drain-${i}` });
  });
  return {
    stream: 'BENCH_DRAIN',
    durable: 'bench',
    cleanup: async () => {
      await cleanup();
      await nc.close();
    },
  };
}
