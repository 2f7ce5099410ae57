import type { JsMsg } from 'nats';

import { WaggleError } from '@waggle/contracts';

/** What to do with a JetStream message after its handler ran. */
export type Settlement =
  { action: 'ack' } | { action: 'nak'; delayMs: number } | { action: 'term'; reason: string; deadLetter: boolean };

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
  if (error === undefined) {
    return { action: 'ack' };
  }
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

/** How claiming the work a message announces ended (the message is a wake-up; the row is the truth). */
export enum ClaimSettlement {
  /** The claim is recorded: ack. */
  Claimed = 'claimed',
  /** Not ours any more (superseded, cancelled, already taken): term, the owner has moved on. */
  Stale = 'stale',
  /** The owner could not be reached: nak with backoff, the claim is tried again. */
  Unreachable = 'unreachable',
  /** The payload failed validation: term, retrying cannot help. */
  Invalid = 'invalid',
}

/** A refused claim is stale; anything else (a timeout, no responders, a retryable error) is unreachable. */
export function claimOutcomeOf(error: unknown): ClaimSettlement.Stale | ClaimSettlement.Unreachable {
  return error instanceof WaggleError && !error.retryable ? ClaimSettlement.Stale : ClaimSettlement.Unreachable;
}

/**
 * The claim-then-ack policy, for a consumer whose messages announce work that must be claimed
 * from its owner first (a machine's task assignments): ack only after the claim is recorded,
 * so a message is never lost between the two. No dead-letter: the owner's row outlives the
 * message, and its reconciler re-sends what was never claimed.
 */
export function claimSettlement(outcome: ClaimSettlement, deliveryCount: number): Settlement {
  switch (outcome) {
    case ClaimSettlement.Claimed:
      return { action: 'ack' };
    case ClaimSettlement.Stale:
      return { action: 'term', reason: 'stale: claimed elsewhere, superseded or cancelled', deadLetter: false };
    case ClaimSettlement.Unreachable:
      return { action: 'nak', delayMs: backoffMs(deliveryCount) };
    case ClaimSettlement.Invalid:
      return { action: 'term', reason: 'invalid payload', deadLetter: false };
  }
}

/** Settles `msg` by the claim-then-ack policy; returns what was done (the caller logs the reason). */
export function settleClaim(msg: JsMsg, outcome: ClaimSettlement): Settlement {
  const s = claimSettlement(outcome, msg.info.redeliveryCount);
  switch (s.action) {
    case 'ack':
      msg.ack();
      break;
    case 'nak':
      msg.nak(s.delayMs);
      break;
    case 'term':
      // No reason on the wire: nats-server 2.9 does not parse "+TERM <reason>" and redelivers the message.
      msg.term();
      break;
  }
  return s;
}
