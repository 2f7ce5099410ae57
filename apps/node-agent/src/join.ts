import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

import type { AgentIdentity } from '@waggle/agent-state';
import type { JoinResponse } from '@waggle/contracts';
import { newMachineKey } from '@waggle/credentials';
import type { Logger } from '@waggle/observability';

export class JoinRefusedError extends Error {}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']);

/**
 * A hub started with defaults announces NATS on a loopback address; a machine that reached
 * the hub by another name reaches NATS by that name too.
 */
export function reachableNatsUrl(announced: string, hubUrl: string): string {
  const hub = new URL(hubUrl);
  return announced
    .split(',')
    .map((entry) => {
      const nats = new URL(entry);
      if (LOOPBACK.has(nats.hostname) && !LOOPBACK.has(hub.hostname)) {
        nats.hostname = hub.hostname;
      }
      return nats.toString().replace(/\/$/, '');
    })
    .join(',');
}

export interface JoinOptions {
  hubUrl: string;
  joinToken: string;
  name: string;
  labels: string[];
  logger: Logger;
  signal: AbortSignal;
}

/**
 * One JSON POST through node:http(s). `fetch` would load undici, whose WebAssembly HTTP
 * parser alone keeps ~10 MB resident, into an agent that makes no other HTTP request.
 */
function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: unknown }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      target,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          let parsed: unknown = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            // not JSON: the status says what happened
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parsed });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * Joins the hub: generates the machine's NKey (the seed never leaves this machine) and
 * trades the join token for the machine's own credentials. An unreachable hub is retried
 * with backoff for ever, and said so; a 429 waits its Retry-After; a refusal (bad token,
 * name taken) is final.
 */
export async function joinHub(options: JoinOptions): Promise<AgentIdentity> {
  const key = newMachineKey();
  const url = new URL('/api/machines/join', options.hubUrl).toString();
  // One key for every attempt: when a join went through but its answer was lost, the retry
  // gets the same credentials instead of "name already exists".
  const idempotencyKey = randomUUID();
  let delay = 1000;
  for (let attempt = 1; !options.signal.aborted; attempt++) {
    let response: Awaited<ReturnType<typeof postJson>>;
    try {
      response = await postJson(
        url,
        { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        JSON.stringify({
          joinToken: options.joinToken,
          name: options.name,
          natsPublicKey: key.publicKey,
          labels: options.labels,
        }),
        AbortSignal.any([options.signal, AbortSignal.timeout(10_000)]),
      );
    } catch (error) {
      options.logger.warn(
        { hub: options.hubUrl, attempt, retryInMs: delay, reason: String((error as Error).cause ?? error) },
        'hub unreachable; retrying',
      );
      await sleep(delay, options.signal);
      delay = Math.min(30_000, delay * 2);
      continue;
    }
    const body = (response.body ?? {}) as JoinResponse & { message?: string };
    if (response.status >= 500) {
      options.logger.warn(
        { hub: options.hubUrl, status: response.status, attempt, retryInMs: delay },
        'hub is not ready; retrying',
      );
      await sleep(delay, options.signal);
      delay = Math.min(30_000, delay * 2);
      continue;
    }
    if (response.status === 429) {
      const wait = Math.max(1, Number(response.headers['retry-after']) || 1) * 1000;
      options.logger.warn({ hub: options.hubUrl, attempt, retryInMs: wait }, 'the hub asks to join later; waiting');
      await sleep(wait, options.signal);
      continue;
    }
    if (response.status < 200 || response.status >= 300) {
      throw new JoinRefusedError(`hub refused to join: ${response.status} ${body.message ?? ''}`.trim());
    }
    return {
      v: 1,
      machineId: body.machineId,
      name: body.name,
      hubUrl: options.hubUrl,
      natsUrl: reachableNatsUrl(body.natsUrl, options.hubUrl),
      apiToken: body.apiToken,
      natsJwt: body.natsJwt,
      natsSeed: key.seed,
      heartbeatIntervalMs: body.heartbeatIntervalMs,
      joinedAt: new Date().toISOString(),
    };
  }
  throw new Error('stopped before joining');
}
