import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
}

/**
 * A keep-alive HTTP/1.1 client on node:http (lighter than fetch, so the load generator takes
 * less of the CPU it shares with the servers). The same client drives Waggle and bare Fastify.
 */
export class HttpClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(
    base: string,
    private readonly token?: string,
    sockets = 64,
  ) {
    this.url = new URL(base);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  call<T = unknown>(method: string, path: string, body?: unknown): Promise<HttpResult<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers: {
            ...(payload !== undefined
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
            ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
            } catch {
              resolve({ status: res.statusCode ?? 0, body: text as T });
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like `call`, but anything but `expected` is an error. */
  async expect<T = unknown>(expected: number, method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.call<T>(method, path, body);
    if (res.status !== expected) {
      throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    return res.body;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** `total` calls of `op`, `concurrency` at a time (each client starts its next call when one ends); seconds taken. */
export async function runConcurrent(
  concurrency: number,
  total: number,
  op: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      for (let i = next++; i < total; i = next++) {
        await op(i);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** `op` by `concurrency` clients for `seconds`; the count of calls that ended within the time, and the exact time. */
export async function runFor(
  concurrency: number,
  seconds: number,
  op: () => Promise<void>,
): Promise<{ count: number; seconds: number }> {
  const started = performance.now();
  const until = started + seconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await op();
        count++;
      }
    }),
  );
  return { count, seconds: (performance.now() - started) / 1000 };
}

/** Starts `op(i)` at a steady `rate` per second, whether or not earlier calls have ended (an open loop). */
export async function runAtRate(rate: number, total: number, op: (i: number) => Promise<void>): Promise<void> {
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) {
      await sleep(wait);
    }
    pending.push(op(i));
  }
  await Promise.all(pending);
}
