import { headers as natsHeaders } from 'nats';
import type { MsgHdrs } from 'nats';

import { Headers } from '@waggle/contracts';
import { currentCorrelationId } from '@waggle/observability';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Parses JSON; a malformed body yields `undefined` so the caller answers with INVALID_INPUT. */
export function decodeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data)) as unknown;
  } catch {
    return undefined;
  }
}

/** Headers for an outgoing message: the current correlation id, and a Nats-Msg-Id when given. */
export function outgoingHeaders(msgId?: string, correlationId = currentCorrelationId()): MsgHdrs {
  const h = natsHeaders();
  if (correlationId) {
    h.set(Headers.correlationId, correlationId);
  }
  if (msgId) {
    h.set(Headers.msgId, msgId);
  }
  return h;
}

export function correlationOf(h: MsgHdrs | undefined): string | undefined {
  return h?.get(Headers.correlationId) || undefined;
}
