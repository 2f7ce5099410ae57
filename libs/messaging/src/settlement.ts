import { WaggleError } from '@waggle/contracts';

/** What to do with a JetStream message after its handler ran. */
export type Settlement = { action: 'ack' } | { action: 'nak'; delayMs: number } | { action: 'term'; reason: string; deadLetter: boolean };

export interface SettlementInput {
  /** The handler's error, or undefined when it succeeded. */
  error?: unknown;
  /** 1 on first delivery. */
  deliveryCount: number;
  /** The consumer's max_deliver, or -1 for unlimited. */
  maxDeliver: number;
}

/** Backoff for naks: 1 s, 2 s, 4 s … capped at 60 s. */
export function backoffMs(deliveryCount: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, deliveryCount - 1));
}

/**
 * The one settlement policy: success acks; an invalid payload or another permanent error is
 * dead-lettered and terminated (retrying cannot help); a transient error is nak'ed with
 * backoff until the last delivery, which is dead-lettered instead of dropped.
 */
export function settle({ error, deliveryCount, maxDeliver }: SettlementInput): Settlement {
  if (error === undefined) return { action: 'ack' };
  if (error instanceof WaggleError && !error.retryable) {
    return { action: 'term', reason: `${error.code}: ${error.message}`, deadLetter: true };
  }
  if (maxDeliver > 0 && deliveryCount >= maxDeliver) {
    return {
      action: 'term',
      reason: `failed on the last of ${maxDeliver} deliveries: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
      deadLetter: true,
    };
  }
  return { action: 'nak', delayMs: backoffMs(deliveryCount) };
}
