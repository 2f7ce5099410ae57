import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';

import type {
  EmptyRequest,
  LlmCallReply,
  LlmCallRequest,
  LlmProviderView,
  LlmStreamFrame,
  LlmSummary,
} from '@waggle/contracts';
import { encodeJson } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { event } from '@waggle/outbox';
import { LOGGER, NATS, TransactionsService } from '@waggle/service-kit';

import { BreakerService } from '../chain/breaker.service';
import { BudgetExceeded, BudgetService } from '../chain/budget.service';
import type { ChainOutcome, Failover, OpenStream } from '../chain/chain.service';
import { AllProvidersFailed, CallerRefusal, ChainService } from '../chain/chain.service';
import { HealthService } from '../chain/health.service';
import type { PriceTable } from '../chain/pricing';
import type { RequestOutcome, RequestRecord } from '../chain/usage.repository';
import { UsageRepository } from '../chain/usage.repository';
import { LlmMetrics } from '../infrastructure/llm.metrics';
import type { CallerApi } from '../wire/caller-api';
import { CALLER_APIS } from '../wire/caller-api';
import type { ChatRequest, Usage } from '../wire/canonical';
import { CallerInputError } from '../wire/canonical';
import type { ProviderSettings } from '../wire/providers';
import { PRICES } from './prices.token';

/** Omit over each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A frame before its sequence number. */
type FrameBody = DistributiveOmit<LlmStreamFrame, 'seq'>;

/** What a finished call is recorded as, whatever way it ended. */
type Ending =
  | { ok: true; outcome: ChainOutcome<unknown>; usage: Usage; firstTokenMs: number | null }
  | {
      ok: false;
      status: number;
      error: string;
      failovers: Failover[];
      provider?: ProviderSettings;
      model?: string;
      usage?: Usage;
    };

/**
 * One LLM call from start to ledger: parse the caller's shape, check budgets, run the chain,
 * answer in the caller's shape (or stream it), and record tokens, cost and failovers.
 */
@Injectable()
export class LlmService {
  constructor(
    private readonly chain: ChainService,
    private readonly budgets: BudgetService,
    private readonly breakers: BreakerService,
    private readonly health: HealthService,
    private readonly usage: UsageRepository,
    private readonly tx: TransactionsService,
    private readonly metrics: LlmMetrics,
    @Inject(PRICES) private readonly prices: PriceTable,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** A non-streamed call. */
  async complete(call: LlmCallRequest): Promise<LlmCallReply> {
    const api = CALLER_APIS[call.api];
    const prepared = await this.prepare(call, api);
    if ('reply' in prepared) {
      return prepared.reply;
    }
    const { chat, record, started } = prepared;
    try {
      const outcome = await this.chain.run(chat, (p, model) => this.chain.complete(p, chat, model));
      await this.finish(record, started, { ok: true, outcome, usage: outcome.value.usage, firstTokenMs: null });
      return { status: 200, body: api.render(outcome.value, chat.model) };
    } catch (error) {
      const reply = this.failureReply(api, error);
      await this.finish(record, started, {
        ok: false,
        status: reply.status,
        error: String((error as Error).message),
        failovers: this.failoversOf(error),
      });
      return reply;
    }
  }

  /** A streamed call: frames go to `streamTo` in order (head, data…, end). */
  async stream(call: LlmCallRequest): Promise<void> {
    const api = CALLER_APIS[call.api];
    let seq = 0;
    const send = (frame: FrameBody) => this.nc.publish(call.streamTo!, encodeJson({ seq: seq++, ...frame }));
    const prepared = await this.prepare(call, api);
    if ('reply' in prepared) {
      send({ type: 'head', status: prepared.reply.status, body: prepared.reply.body, headers: prepared.reply.headers });
      send({ type: 'end' });
      return;
    }
    const { chat, record, started } = prepared;
    let opened: ChainOutcome<OpenStream>;
    try {
      opened = await this.chain.run(chat, (p, model) => this.chain.openStream(p, chat, model));
    } catch (error) {
      const reply = this.failureReply(api, error);
      send({ type: 'head', status: reply.status, body: reply.body });
      send({ type: 'end' });
      await this.finish(record, started, {
        ok: false,
        status: reply.status,
        error: String((error as Error).message),
        failovers: this.failoversOf(error),
      });
      return;
    }
    const writer = api.stream(chat.model);
    send({ type: 'head', status: 200 });
    send({ type: 'data', data: writer.start() });
    const firstTokenMs = Date.now() - started;
    let chars = 0;
    try {
      for (const e of opened.value.first) {
        if (e.type === 'text') {
          chars += e.text.length;
          send({ type: 'data', data: writer.text(e.text) });
        }
      }
      const early = opened.value.first.find((e) => e.type === 'done');
      let finalUsage: Usage | undefined = early?.usage;
      if (!early) {
        for await (const e of opened.value.rest) {
          if (e.type === 'text') {
            chars += e.text.length;
            send({ type: 'data', data: writer.text(e.text) });
          } else {
            finalUsage = e.usage;
            send({ type: 'data', data: writer.done(e.stopReason, e.usage) });
          }
        }
      } else {
        send({ type: 'data', data: writer.done(early.stopReason, early.usage) });
      }
      if (!finalUsage) {
        throw new Error('the stream ended without its final event');
      }
      send({ type: 'end' });
      await this.finish(record, started, { ok: true, outcome: opened, usage: finalUsage, firstTokenMs });
    } catch (error) {
      // It had begun: no failover now; the caller gets an error event.
      const message = `${opened.provider.name}: stream broke after it began (${(error as Error).message})`;
      send({ type: 'data', data: writer.error(message) });
      send({ type: 'end' });
      opened.value.stop();
      await this.breakers.failed(opened.provider.name, message);
      // Output tokens are estimated from the text that was passed on (about 4 characters a token).
      const usage = { inputTokens: 0, outputTokens: Math.ceil(chars / 4) };
      await this.finish(record, started, {
        ok: false,
        status: 200,
        error: message,
        failovers: opened.failovers,
        provider: opened.provider,
        model: opened.model,
        usage,
      });
    }
  }

  /** Parses the caller's request and reserves budget; or the reply that ends the call right away. */
  private async prepare(
    call: LlmCallRequest,
    api: CallerApi,
  ): Promise<{ reply: LlmCallReply } | { chat: ChatRequest; record: RequestRecord; started: number }> {
    const started = Date.now();
    let chat: ChatRequest;
    try {
      chat = api.parse(call.body);
    } catch (error) {
      if (error instanceof CallerInputError) {
        return { reply: { status: 400, body: api.errorBody(400, error.message) } };
      }
      throw error;
    }
    const record: RequestRecord = {
      id: randomUUID(),
      api: call.api,
      requestedModel: chat.model,
      machineId: call.caller.machineId ?? null,
      caller: call.caller.name,
      taskId: call.taskId ?? null,
      stream: chat.stream,
    };
    try {
      await this.budgets.reserve(record, chat, this.prices);
    } catch (error) {
      if (!(error instanceof BudgetExceeded)) {
        throw error;
      }
      await this.usage.finish(
        record,
        this.outcome({ ok: false, status: 402, error: error.message, failovers: [] }, started),
      );
      return {
        reply: {
          status: 402,
          body: api.errorBody(402, error.message),
          headers:
            error.retryAfterSeconds !== undefined ? { 'retry-after': String(error.retryAfterSeconds) } : undefined,
        },
      };
    }
    return { chat, record, started };
  }

  private failureReply(api: CallerApi, error: unknown): LlmCallReply {
    if (error instanceof CallerRefusal) {
      return { status: error.status, body: api.errorBody(error.status, `${error.provider}: ${error.message}`) };
    }
    if (error instanceof AllProvidersFailed) {
      const body = api.errorBody(502, error.message, 'all_providers_failed') as Record<string, unknown>;
      return { status: 502, body: { ...body, providers: error.reasons } };
    }
    throw error;
  }

  private failoversOf(error: unknown): Failover[] {
    return error instanceof AllProvidersFailed
      ? error.reasons.map((r, i, all) => ({ from: r.provider, to: all[i + 1]?.provider ?? null, reason: r.reason }))
      : [];
  }

  private outcome(ending: Ending, started: number): RequestOutcome {
    if (ending.ok) {
      const { provider, model } = ending.outcome;
      return {
        status: 'ok',
        httpStatus: 200,
        provider: provider.name,
        providerModel: model,
        inputTokens: ending.usage.inputTokens,
        outputTokens: ending.usage.outputTokens,
        costUsd: this.prices.cost(provider, model, ending.usage).usd,
        latencyMs: Date.now() - started,
        firstTokenMs: ending.firstTokenMs,
        failovers: ending.outcome.failovers.length,
        error: null,
      };
    }
    const usage = ending.usage ?? { inputTokens: 0, outputTokens: 0 };
    return {
      status: ending.status === 402 ? 'refused' : 'error',
      httpStatus: ending.status,
      provider: ending.provider?.name ?? null,
      providerModel: ending.model ?? null,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      costUsd: ending.provider && ending.model ? this.prices.cost(ending.provider, ending.model, usage).usd : 0,
      latencyMs: Date.now() - started,
      firstTokenMs: null,
      failovers: ending.failovers.length,
      error: ending.error.slice(0, 2000),
    };
  }

  /** Records the call, its failovers and their events (one transaction), and counts it. */
  private async finish(record: RequestRecord, started: number, ending: Ending): Promise<void> {
    const outcome = this.outcome(ending, started);
    const failovers = ending.ok ? ending.outcome.failovers : ending.failovers;
    try {
      if (!failovers.length) {
        await this.usage.finish(record, outcome);
      } else {
        // The call, its failovers and their events: one transaction.
        await this.tx.run(async (manager) => {
          await this.usage.finish(record, outcome, manager);
          const rows = failovers.map((f) => ({
            id: randomUUID(),
            requestId: record.id,
            ...f,
            machineId: record.machineId,
            taskId: record.taskId,
          }));
          await this.usage.addFailovers(manager, rows);
          const outbox = rows.map((f) =>
            event(randomUUID(), 'llm.failover', {
              requestId: record.id,
              from: f.from,
              to: f.to,
              reason: f.reason,
              machineId: record.machineId ?? undefined,
              taskId: record.taskId ?? undefined,
            }),
          );
          return { result: null, outbox };
        });
      }
    } catch (error) {
      this.logger.error({ err: error, requestId: record.id }, 'could not record an LLM call');
    }
    const provider = outcome.provider ?? 'none';
    this.metrics.requests.inc({ provider, outcome: outcome.status });
    this.metrics.latency.observe({ provider, stream: String(record.stream) }, outcome.latencyMs / 1000);
    this.metrics.tokens.inc({ provider, direction: 'input' }, outcome.inputTokens);
    this.metrics.tokens.inc({ provider, direction: 'output' }, outcome.outputTokens);
    if (outcome.costUsd) {
      this.metrics.cost.inc({ provider }, outcome.costUsd);
    }
    for (const f of failovers) {
      this.metrics.failovers.inc({ provider: f.from, reason: f.reason === 'circuit open' ? 'circuit_open' : 'failed' });
    }
  }

  async summary(day = new Date().toISOString().slice(0, 10)): Promise<LlmSummary> {
    return { day, ...(await this.usage.summary(day)), budgets: this.budgets.caps };
  }

  async providers(_: EmptyRequest): Promise<LlmProviderView[]> {
    const [stats, breakers, failed] = await Promise.all([
      this.usage.providerStats(),
      this.breakers.list(),
      this.usage.failoverCounts(),
    ]);
    return this.chain.providers.map((p) => {
      const s = stats.get(p.name);
      const failures = failed.get(p.name) ?? 0;
      const attempts = (s?.requests ?? 0) + failures;
      return {
        name: p.name,
        kind: p.kind,
        url: p.url,
        local: p.local,
        breaker: breakers.find((b) => b.provider === p.name)?.state ?? 'closed',
        healthy: this.health.status(p.name),
        requests: attempts,
        successRate: attempts ? (s?.ok ?? 0) / attempts : null,
        latencyMs: { p50: s?.p50 ?? null, p95: s?.p95 ?? null },
        tokens: { input: s?.inputTokens ?? 0, output: s?.outputTokens ?? 0 },
        costUsd: s?.costUsd ?? 0,
      };
    });
  }
}
