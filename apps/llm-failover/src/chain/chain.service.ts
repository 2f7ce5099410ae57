import { Inject, Injectable } from '@nestjs/common';
import { DelegateBackoff, handleWhen, retry } from 'cockatiel';
import type { IRetryBackoffContext, RetryPolicy } from 'cockatiel';

import type { Logger } from '@waggle/observability';
import { LOGGER } from '@waggle/service-kit';

import { CHAIN } from '../infrastructure/tokens';
import type { ProviderChain } from '../llm-failover.config';
import { LlmFailoverConfig } from '../llm-failover.config';
import type { ChatRequest, ChatResult, StreamEvent } from '../wire/canonical';
import type { ProviderSettings } from '../wire/providers';
import { MalformedReplyError, PROVIDER_WIRES } from '../wire/providers';
import type { Admission } from './breaker.service';
import { BreakerService } from './breaker.service';
import { HealthService } from './health.service';
import { ProviderKeysService } from './provider-keys.service';

/** A provider could not serve the call; the next one may. */
export class ProviderFailure extends Error {
  constructor(
    message: string,
    /** Worth asking the same provider again (timeouts, refused connections, 5xx, 429). */
    readonly retryable: boolean,
    /** Counts toward opening the circuit (a busy local provider does not). */
    readonly countsAgainstBreaker = true,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderFailure';
  }
}

/** The provider refused the request itself (400, 401, 403, 404, 422…): the caller gets it, no failover. */
export class CallerRefusal extends Error {
  constructor(
    readonly status: number,
    readonly provider: string,
    message: string,
  ) {
    super(message);
    this.name = 'CallerRefusal';
  }
}

/** Every provider failed or was skipped. */
export class AllProvidersFailed extends Error {
  constructor(readonly reasons: { provider: string; reason: string }[]) {
    super(
      `every provider failed: ${reasons.map((r) => `${r.provider}: ${r.reason}`).join('; ') || 'no providers configured'}`,
    );
    this.name = 'AllProvidersFailed';
  }
}

export interface Failover {
  from: string;
  to: string | null;
  reason: string;
}

export interface ChainOutcome<T> {
  value: T;
  provider: ProviderSettings;
  model: string;
  failovers: Failover[];
}

/** An open stream whose first event has arrived (so it can no longer fail over). */
export interface OpenStream {
  first: StreamEvent[];
  rest: AsyncGenerator<StreamEvent>;
  stop: () => void;
}

/** Seconds or an HTTP date, as Retry-After allows. */
export function retryAfterMs(header: string | null): number | undefined {
  if (!header) {
    return undefined;
  }
  const seconds = Number(header);
  if (Number.isFinite(seconds)) {
    return Math.max(0, seconds * 1000);
  }
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Connection-level failure code (ECONNREFUSED …) out of fetch's error. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

const CALLER_STATUSES = new Set([400, 401, 403, 404, 409, 413, 422]);

/**
 * Runs a call down the provider chain: model mapping, the shared circuit breaker, retries
 * with backoff (Retry-After honoured, cockatiel), and failover on timeouts, refused
 * connections, 5xx, 429, malformed replies, and streams that break before their first token.
 */
@Injectable()
export class ChainService {
  private readonly retries: RetryPolicy;

  constructor(
    private readonly config: LlmFailoverConfig,
    private readonly breakers: BreakerService,
    private readonly health: HealthService,
    private readonly keys: ProviderKeysService,
    @Inject(CHAIN) private readonly chain: ProviderChain,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const base = config.WAGGLE_LLM_RETRY_BASE_MS;
    this.retries = retry(
      handleWhen(
        (e) =>
          e instanceof ProviderFailure && e.retryable && (e.retryAfterMs ?? 0) <= config.WAGGLE_LLM_RETRY_AFTER_MAX_MS,
      ),
      {
        maxAttempts: config.WAGGLE_LLM_RETRIES,
        backoff: new DelegateBackoff((ctx: IRetryBackoffContext<unknown>) => {
          const error = 'error' in ctx.result ? ctx.result.error : undefined;
          return error instanceof ProviderFailure && error.retryAfterMs !== undefined
            ? error.retryAfterMs
            : base * 2 ** (ctx.attempt - 1);
        }),
      },
    );
  }

  get providers(): ProviderSettings[] {
    return this.chain.providers;
  }

  /** The provider's model for what the caller asked: an alias, or a model some provider lists under an alias, or the name as is. */
  modelFor(p: ProviderSettings, requested: string): string {
    if (p.models[requested]) {
      return p.models[requested];
    }
    for (const other of this.chain.providers) {
      const alias = Object.entries(other.models).find(([, model]) => model === requested)?.[0];
      if (alias && p.models[alias]) {
        return p.models[alias];
      }
    }
    return requested;
  }

  async run<T>(req: ChatRequest, invoke: (p: ProviderSettings, model: string) => Promise<T>): Promise<ChainOutcome<T>> {
    const failovers: Failover[] = [];
    const reasons: { provider: string; reason: string }[] = [];
    const providers = this.chain.providers;
    for (const [i, p] of providers.entries()) {
      const next = providers[i + 1]?.name ?? null;
      const model = this.modelFor(p, req.model);
      const admitted: { admission: Admission; failures: number } = await this.breakers.admit(p.name);
      if (admitted.admission === 'skip') {
        reasons.push({ provider: p.name, reason: 'circuit open' });
        failovers.push({ from: p.name, to: next, reason: 'circuit open' });
        continue;
      }
      try {
        // A key given as a vault reference is read here (a failure fails over like any other).
        const resolved = await this.keys.resolve(p).catch((error: unknown) => {
          throw new ProviderFailure((error as Error).message, false, false);
        });
        const value = await this.retries.execute(() => invoke(resolved, model));
        await this.breakers.succeeded(p.name, admitted);
        return { value, provider: p, model, failovers };
      } catch (error) {
        if (error instanceof CallerRefusal) {
          throw error;
        }
        const failure =
          error instanceof ProviderFailure
            ? error
            : new ProviderFailure(String((error as Error)?.message ?? error), false);
        if (failure.countsAgainstBreaker || admitted.admission === 'probe') {
          await this.breakers.failed(p.name, failure.message);
        }
        this.logger.warn(
          { provider: p.name, model, reason: failure.message, next },
          'provider failed; trying the next',
        );
        reasons.push({ provider: p.name, reason: failure.message });
        failovers.push({ from: p.name, to: next, reason: failure.message });
      }
    }
    throw new AllProvidersFailed(reasons);
  }

  /** One non-streamed call to one provider. */
  async complete(p: ProviderSettings, req: ChatRequest, model: string): Promise<ChatResult> {
    const { response, done } = await this.send(p, { ...req, stream: false }, model);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new ProviderFailure(`${p.name}: reply broke off (${causeOf(error)})`, true);
    } finally {
      done();
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ProviderFailure(`${p.name}: malformed JSON in the reply`, false);
    }
    try {
      return PROVIDER_WIRES[p.kind].parse(p, json);
    } catch (error) {
      if (error instanceof MalformedReplyError) {
        throw new ProviderFailure(error.message, false);
      }
      throw error;
    }
  }

  /** Opens a stream and reads up to its first text (or its end): until then a break fails over. */
  async openStream(p: ProviderSettings, req: ChatRequest, model: string): Promise<OpenStream> {
    const { response, done, abort, touch } = await this.send(p, { ...req, stream: true }, model, true);
    if (!response.body) {
      throw new ProviderFailure(`${p.name}: empty stream`, true);
    }
    const idleWatched = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          touch();
          controller.enqueue(chunk);
        },
      }),
    );
    const events = PROVIDER_WIRES[p.kind].stream(p, idleWatched);
    const first: StreamEvent[] = [];
    try {
      for (;;) {
        const next = await events.next();
        if (next.done) {
          throw new Error('ended before any token');
        }
        first.push(next.value);
        if (next.value.type === 'text' || next.value.type === 'done') {
          break;
        }
      }
    } catch (error) {
      abort();
      done();
      throw new ProviderFailure(`${p.name}: stream broke before its first token (${causeOf(error)})`, true);
    }
    const rest = (async function* () {
      try {
        yield* events;
      } finally {
        done();
      }
    })();
    return { first, rest, stop: abort };
  }

  /**
   * POSTs to the provider; resolves with a 2xx response. Time to headers is bounded (longer
   * for local providers); a streaming body is then bounded by silence (`touch` resets it).
   */
  private async send(p: ProviderSettings, req: ChatRequest, model: string, streaming = false) {
    const call = PROVIDER_WIRES[p.kind].request(p, req, model);
    const controller = new AbortController();
    const headersTimeout = p.local ? this.config.WAGGLE_LLM_LOCAL_TIMEOUT_MS : this.config.WAGGLE_LLM_TIMEOUT_MS;
    let timer = setTimeout(() => controller.abort(new Error('timeout')), headersTimeout);
    const done = () => clearTimeout(timer);
    const touch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new Error('stream idle')), this.config.WAGGLE_LLM_STREAM_IDLE_MS);
    };
    let response: Response;
    try {
      response = await fetch(call.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: streaming ? 'text/event-stream' : 'application/json',
          ...call.headers,
        },
        body: JSON.stringify(call.body),
        signal: controller.signal,
      });
    } catch (error) {
      done();
      if (controller.signal.aborted) {
        // Local and slow: is it busy (its model list answers) or down?
        if (p.local && (await this.health.probe(p))) {
          throw new ProviderFailure(`${p.name}: busy (no answer in ${headersTimeout} ms, but it is up)`, false, false);
        }
        throw new ProviderFailure(`${p.name}: no answer in ${headersTimeout} ms`, true);
      }
      throw new ProviderFailure(`${p.name}: connection failed (${causeOf(error)})`, true);
    }
    if (response.ok) {
      if (streaming) {
        touch();
      }
      return { response, done, abort: () => controller.abort(new Error('stopped')), touch };
    }
    const text = await response.text().catch(() => '');
    done();
    let message: string | undefined;
    try {
      message = PROVIDER_WIRES[p.kind].errorMessage(JSON.parse(text));
    } catch {
      message = undefined;
    }
    message = `${response.status} ${message ?? (text.slice(0, 200) || response.statusText)}`;
    if (CALLER_STATUSES.has(response.status)) {
      throw new CallerRefusal(response.status, p.name, message);
    }
    throw new ProviderFailure(`${p.name}: ${message}`, true, true, retryAfterMs(response.headers.get('retry-after')));
  }
}
