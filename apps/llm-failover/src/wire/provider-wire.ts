// What every provider wire format shares: the provider's settings, the HTTP call it makes,
// the wire's shape and the JSON readers that never trust a provider's reply.
import type { LlmProviderKind } from '@waggle/contracts';

import type { ChatRequest, ChatResult, StreamEvent } from './canonical';

/** One configured provider (from WAGGLE_LLM_<NAME>_* or the config file). */
export interface ProviderSettings {
  name: string;
  kind: LlmProviderKind;
  url: string;
  apiKey?: string;
  /** On the hub's own network (Ollama, a LocalAI box): costs nothing; busy is not down. */
  local: boolean;
  /** Alias → this provider's model. */
  models: Record<string, string>;
}

export interface HttpCall {
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** The provider answered 200 with something that is not its format. */
export class MalformedReplyError extends Error {
  constructor(provider: string, what: string) {
    super(`${provider} sent a malformed reply (${what})`);
    this.name = 'MalformedReplyError';
  }
}

/** How Waggle talks to one provider wire format. */
export interface ProviderWire {
  request(p: ProviderSettings, req: ChatRequest, model: string): HttpCall;
  parse(p: ProviderSettings, json: unknown): ChatResult;
  stream(p: ProviderSettings, body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent>;
  /** The message inside the provider's error body. */
  errorMessage(json: unknown): string | undefined;
  /** A cheap request that shows the provider is up (its model list). */
  health(p: ProviderSettings): HttpCall;
}

/** A provider's JSON object (anything else reads as empty). */
export type Json = Record<string, unknown>;
export const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
/** A string field, or the fallback (never an object's `[object Object]`). */
export const str = (v: unknown, fallback = ''): string =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback;
export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
export const bearer = (p: ProviderSettings): Record<string, string> =>
  p.apiKey ? { authorization: `Bearer ${p.apiKey}` } : {};
export const join = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`;
export function parseJson(p: ProviderSettings, text: string): Json {
  try {
    return obj(JSON.parse(text));
  } catch {
    throw new MalformedReplyError(p.name, 'not JSON');
  }
}

/** The message of an `{ error: { message } }` body, the shape Anthropic, OpenAI and Gemini share. */
export function nestedErrorMessage(json: unknown): string | undefined {
  const message = obj(obj(json).error).message;
  return typeof message === 'string' ? message : undefined;
}
