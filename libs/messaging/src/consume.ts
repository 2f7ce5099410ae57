import { AckPolicy, DeliverPolicy } from 'nats';
import type { JetStreamClient, JsMsg, NatsConnection } from 'nats';

import type { Constructor } from '@waggle/contracts';
import { deadLetterSubject, decode } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import { sanitizeCorrelationId, withCorrelation } from '@waggle/observability';

import { correlationOf, decodeJson, encodeJson, outgoingHeaders } from './codec';
import { settle } from './settlement';

export interface ConsumeOptions<T extends object> {
  js: JetStreamClient;
  stream: string;
  consumer: string;
  type: Constructor<T>;
  /** Handles one batch; throwing settles every message of the batch by the policy. */
  handleBatch: (items: { payload: T; msg: JsMsg }[]) => Promise<void>;
  logger: Logger;
  batchSize?: number;
  /** The consumer's max_deliver (-1 = unlimited), for the last-delivery rule. */
  maxDeliver?: number;
  signal: AbortSignal;
  /** Called when a fetch fails (connection lost, consumer missing); the loop keeps going. */
  onFetchError?: (error: unknown) => void;
  /**
   * Creates the consumer (and whatever it needs) again. When given, a consumer or stream that
   * went missing (JetStream lost its store) ends the pull at once and this runs before the next.
   */
  ensure?: () => Promise<void>;
}

async function deadLetter(
  js: JetStreamClient,
  stream: string,
  consumer: string,
  msg: JsMsg,
  reason: string,
  logger: Logger,
) {
  try {
    await js.publish(
      deadLetterSubject(stream, consumer),
      encodeJson({ reason, subject: msg.subject, seq: msg.seq, data: new TextDecoder().decode(msg.data) }),
      {
        headers: outgoingHeaders(undefined, correlationOf(msg.headers)),
      },
    );
  } catch (error) {
    logger.error({ err: error, stream, consumer, seq: msg.seq }, 'dead-letter publish failed');
  }
}

type SettleContext = Pick<ConsumeOptions<object>, 'js' | 'stream' | 'consumer' | 'logger' | 'maxDeliver'>;

async function settleMsg(options: SettleContext, msg: JsMsg, error: unknown): Promise<void> {
  const s = settle({ error, deliveryCount: msg.info.redeliveryCount, maxDeliver: options.maxDeliver ?? -1 });
  switch (s.action) {
    case 'ack':
      msg.ack();
      return;
    case 'nak':
      options.logger.warn({ err: error, seq: msg.seq, delayMs: s.delayMs }, 'message will be retried');
      msg.nak(s.delayMs);
      return;
    case 'term':
      options.logger.error({ reason: s.reason, seq: msg.seq }, 'message dead-lettered');
      if (s.deadLetter) {
        await deadLetter(options.js, options.stream, options.consumer, msg, s.reason, options.logger);
      }
      // A plain term: nats-server 2.9 does not parse `+TERM <reason>` and would redeliver after AckWait. The reason is in the log line above.
      msg.term();
      return;
  }
}

/**
 * Consumes a durable consumer until `signal` aborts: a continuous pull (messages arrive as
 * soon as they are stored, no batch-fill wait), handled in batches of whatever has arrived,
 * up to `batchSize`. Payloads are decoded and validated; invalid ones are settled by the
 * policy without reaching the handler. Handlers never ack by hand.
 */
export async function consumeBatches<T extends object>(options: ConsumeOptions<T>): Promise<void> {
  await pullBatches(options, (batch) => handle(options, batch));
}

/**
 * The pull loop under both consumers: hands `onBatch` whatever has arrived (up to
 * `batchSize`), one batch at a time, and pulls again after an error (running `ensure` first).
 */
async function pullBatches(
  options: Omit<ConsumeOptions<object>, 'handleBatch' | 'type'>,
  onBatch: (batch: JsMsg[]) => Promise<void>,
): Promise<void> {
  const batchSize = options.batchSize ?? 256;
  while (!options.signal.aborted) {
    try {
      const consumer = await options.js.consumers.get(options.stream, options.consumer);
      const messages = await consumer.consume({
        max_messages: batchSize,
        abort_on_missing_resource: !!options.ensure,
      });
      const stop = () => void messages.close();
      options.signal.addEventListener('abort', stop, { once: true });
      const buffer: JsMsg[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      let failure: Error | undefined;
      const reader = (async () => {
        try {
          for await (const m of messages) {
            buffer.push(m);
            wake?.();
          }
        } catch (error) {
          // The pull ended on an error (the consumer or its stream is gone): handled below, by the loop.
          failure = error instanceof Error ? error : new Error(`pull ended: ${String(error)}`);
        }
        ended = true;
        wake?.();
      })();
      while (!ended || buffer.length) {
        if (!buffer.length) {
          await new Promise<void>((resolve) => (wake = resolve));
        }
        wake = undefined;
        // Let the rest of a burst that arrived in the same read join this batch.
        await new Promise((resolve) => setImmediate(resolve));
        const batch = buffer.splice(0, batchSize);
        if (batch.length) {
          await onBatch(batch);
        }
      }
      await reader;
      options.signal.removeEventListener('abort', stop);
      if (failure) {
        throw failure;
      }
    } catch (error) {
      if (options.signal.aborted) {
        return;
      }
      options.onFetchError?.(error);
      await new Promise((r) => setTimeout(r, 1000));
      await options.ensure?.().catch((ensureError: unknown) => options.onFetchError?.(ensureError));
    }
  }
}

/** Decodes a batch; what fails validation is settled by the policy at once. */
async function decodeBatch<T extends object>(
  options: ConsumeOptions<T> | PipelineOptions<T>,
  messages: JsMsg[],
): Promise<Delivered<T>[]> {
  const valid: Delivered<T>[] = [];
  for (const msg of messages) {
    try {
      valid.push({ payload: decode(options.type, decodeJson(msg.data)), msg });
    } catch (error) {
      await settleMsg(options, msg, error);
    }
  }
  return valid;
}

/** Runs `fn`, under the correlation id of the first message; resolves its error (undefined: none). */
async function attempt<T extends object>(items: Delivered<T>[], fn: () => Promise<void>): Promise<unknown> {
  const correlationId = sanitizeCorrelationId(correlationOf(items[0]?.msg.headers));
  let failure: unknown;
  await withCorrelation(correlationId, async () => {
    try {
      await fn();
    } catch (error) {
      failure = error ?? new Error('handler failed');
    }
  });
  return failure;
}

/** A decoded message and its JetStream delivery. */
export interface Delivered<T> {
  payload: T;
  msg: JsMsg;
}

export interface PipelineOptions<T extends object> extends Omit<ConsumeOptions<T>, 'handleBatch'> {
  /**
   * Stage one, batch by batch in delivery order (the next batch waits for it): e.g. store
   * the batch. A batch it fails is settled by the policy and goes no further.
   */
  stage: (items: Delivered<T>[]) => Promise<void>;
  /**
   * Stage two, for what stage one passed: e.g. tell the owner. Staged messages are gathered
   * into calls of up to `commitSize`, up to `commitsInFlight` at once, while stage one goes
   * on with the next batches. A message is acked only once both stages passed it, and
   * messages are settled in delivery order.
   */
  commit: (items: Delivered<T>[]) => Promise<void>;
  commitSize?: number;
  commitsInFlight?: number;
  /** Staged but unsettled messages at most; stage one waits beyond it (default 20 batches). */
  maxUnsettled?: number;
}

/**
 * Consumes a durable consumer in a two-stage pipeline until `signal` aborts: while a commit
 * (stage two) is in flight, the next batches go through stage one. The guarantee is the
 * same as `consumeBatches` with both stages in one handler: nothing is acked before both
 * passed it; a failure in either is settled by the one policy (nak with backoff, or
 * dead-letter). Acks follow commits, in delivery order.
 */
export async function consumePipelined<T extends object>(options: PipelineOptions<T>): Promise<void> {
  const commitSize = options.commitSize ?? options.batchSize ?? 256;
  const commitsInFlight = Math.max(1, options.commitsInFlight ?? 2);
  const maxUnsettled = options.maxUnsettled ?? (options.batchSize ?? 256) * 20;
  /** Passed stage one, waiting for a commit slot. */
  const staged: Delivered<T>[] = [];
  let committing = 0;
  let unsettled = 0;
  /** Resolves once every commit started so far is settled: the next one settles after it. */
  let settledInOrder: Promise<void> = Promise.resolve();
  let roomFreed: (() => void) | undefined;

  const settleAll = async (items: Delivered<T>[], error: unknown) => {
    for (const { msg } of items) {
      await settleMsg(options, msg, error);
    }
    unsettled -= items.length;
    roomFreed?.();
  };
  const startCommits = () => {
    while (committing < commitsInFlight && staged.length) {
      const items = staged.splice(0, commitSize);
      committing++;
      const outcome = attempt(items, () => options.commit(items));
      const previous = settledInOrder;
      settledInOrder = (async () => {
        const error = await outcome;
        committing--;
        startCommits();
        await previous;
        await settleAll(items, error);
      })();
    }
  };

  await pullBatches(options, async (batch) => {
    while (unsettled >= maxUnsettled) {
      await new Promise<void>((resolve) => (roomFreed = resolve));
      roomFreed = undefined;
    }
    const items = await decodeBatch(options, batch);
    if (!items.length) {
      return;
    }
    unsettled += items.length;
    const error = await attempt(items, () => options.stage(items));
    if (error !== undefined) {
      // Settled after what came before it, so acks and naks stay in delivery order.
      const previous = settledInOrder;
      settledInOrder = previous.then(() => settleAll(items, error));
      return;
    }
    staged.push(...items);
    startCommits();
  });
  await settledInOrder;
}

async function handle<T extends object>(options: ConsumeOptions<T>, messages: JsMsg[]): Promise<void> {
  const valid = await decodeBatch(options, messages);
  if (!valid.length) {
    return;
  }
  const failure = await attempt(valid, () => options.handleBatch(valid));
  for (const { msg } of valid) {
    await settleMsg(options, msg, failure);
  }
}

export interface DurableConsumerSpec {
  stream: string;
  durable: string;
  /** One subject (nats-server 2.9 takes one filter per consumer). */
  filter?: string;
  /** Where a consumer created now starts (default: the whole stream). */
  deliverPolicy?: DeliverPolicy;
  /** Deliveries before a message is dead-lettered: told to the server and to the settlement policy alike. */
  maxDeliver: number;
  ackWaitMs?: number;
}

/**
 * A durable pull consumer that a service's replicas share: created (or updated) to `spec`,
 * then consumed in batches until `signal` aborts, and created again if JetStream loses it.
 * Resolves once the consumer exists.
 */
export async function consumeDurable<T extends object>(
  nc: NatsConnection,
  spec: DurableConsumerSpec,
  options: Omit<ConsumeOptions<T>, 'js' | 'stream' | 'consumer' | 'maxDeliver'>,
): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const ensure = async () => {
    await jsm.consumers.add(spec.stream, {
      durable_name: spec.durable,
      ...(spec.filter ? { filter_subject: spec.filter } : {}),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: spec.deliverPolicy ?? DeliverPolicy.All,
      ack_wait: (spec.ackWaitMs ?? 30_000) * 1_000_000,
      max_deliver: spec.maxDeliver,
    });
  };
  await ensure();
  void consumeBatches({
    ...options,
    js: nc.jetstream(),
    stream: spec.stream,
    consumer: spec.durable,
    maxDeliver: spec.maxDeliver,
    // A consumer lost with the JetStream store is made again by whoever consumes it.
    ensure,
  });
}
