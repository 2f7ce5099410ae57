import { randomUUID } from 'node:crypto';

import type { LlmProviderKind } from '@waggle/contracts';

import type { ChatRequest, ChatResult, StopReason, StreamEvent, Usage } from './canonical';
import { ndjsonLines, sseEvents } from './sse';

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

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
/** A string field, or the fallback (never an object's `[object Object]`). */
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const bearer = (p: ProviderSettings): Record<string, string> => (p.apiKey ? { authorization: `Bearer ${p.apiKey}` } : {});
const join = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`;
function parseJson(p: ProviderSettings, text: string): Json {
  try {
    return obj(JSON.parse(text));
  } catch {
    throw new MalformedReplyError(p.name, 'not JSON');
  }
}

const anthropicStop = (s: unknown): StopReason => (s === 'max_tokens' ? 'length' : s === 'stop_sequence' ? 'stop_sequence' : 'end');
const openAiStop = (s: unknown): StopReason => (s === 'length' ? 'length' : 'end');
const geminiStop = (s: unknown): StopReason => (s === 'MAX_TOKENS' ? 'length' : 'end');

const anthropic: ProviderWire = {
  request(p, req, model) {
    return {
      url: join(p.url, '/v1/messages'),
      headers: { 'x-api-key': p.apiKey ?? '', 'anthropic-version': '2023-06-01' },
      body: {
        model,
        max_tokens: req.maxTokens,
        messages: req.messages,
        system: req.system,
        temperature: req.temperature,
        top_p: req.topP,
        stop_sequences: req.stop,
        stream: req.stream || undefined,
      },
    };
  },
  parse(p, json) {
    const body = obj(json);
    const content = body.content;
    if (!Array.isArray(content)) throw new MalformedReplyError(p.name, 'no content');
    const usage = obj(body.usage);
    return {
      id: str(body.id, randomUUID()),
      model: str(body.model, ''),
      text: content.map((b) => (obj(b).type === 'text' ? str(obj(b).text) : '')).join(''),
      stopReason: anthropicStop(body.stop_reason),
      usage: { inputTokens: num(usage.input_tokens), outputTokens: num(usage.output_tokens) },
    };
  },
  async *stream(p, body) {
    const usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let stopReason: StopReason = 'end';
    for await (const e of sseEvents(body)) {
      const data = parseJson(p, e.data);
      switch (data.type) {
        case 'message_start': {
          const u = obj(obj(data.message).usage);
          usage.inputTokens = num(u.input_tokens);
          usage.outputTokens = num(u.output_tokens);
          break;
        }
        case 'content_block_delta': {
          const delta = obj(data.delta);
          if (delta.type === 'text_delta' && typeof delta.text === 'string') yield { type: 'text', text: delta.text };
          break;
        }
        case 'message_delta': {
          stopReason = anthropicStop(obj(data.delta).stop_reason);
          const u = obj(data.usage);
          if (u.output_tokens !== undefined) usage.outputTokens = num(u.output_tokens);
          if (u.input_tokens !== undefined) usage.inputTokens = num(u.input_tokens);
          break;
        }
        case 'message_stop':
          yield { type: 'done', stopReason, usage };
          return;
        case 'error':
          throw new Error(`${p.name} stream error: ${str(obj(data.error).message, 'unknown')}`);
        default:
          break;
      }
    }
    throw new Error(`${p.name} stream ended before message_stop`);
  },
  errorMessage: (json) => {
    const message = obj(obj(json).error).message;
    return typeof message === 'string' ? message : undefined;
  },
  health: (p) => ({ url: join(p.url, '/v1/models'), headers: { 'x-api-key': p.apiKey ?? '', 'anthropic-version': '2023-06-01' } }),
};

const openai: ProviderWire = {
  request(p, req, model) {
    const messages = [...(req.system ? [{ role: 'system', content: req.system }] : []), ...req.messages];
    return {
      url: join(p.url, '/v1/chat/completions'),
      headers: bearer(p),
      body: {
        model,
        messages,
        max_tokens: req.maxTokens,
        temperature: req.temperature,
        top_p: req.topP,
        stop: req.stop,
        stream: req.stream || undefined,
        stream_options: req.stream ? { include_usage: true } : undefined,
      },
    };
  },
  parse(p, json) {
    const body = obj(json);
    const choice = obj(Array.isArray(body.choices) ? body.choices[0] : undefined);
    const message = obj(choice.message);
    if (typeof message.content !== 'string') throw new MalformedReplyError(p.name, 'no choices[0].message.content');
    const usage = obj(body.usage);
    return {
      id: str(body.id, randomUUID()),
      model: str(body.model, ''),
      text: message.content,
      stopReason: openAiStop(choice.finish_reason),
      usage: { inputTokens: num(usage.prompt_tokens), outputTokens: num(usage.completion_tokens) },
    };
  },
  async *stream(p, body) {
    const usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let stopReason: StopReason = 'end';
    for await (const e of sseEvents(body)) {
      if (e.data === '[DONE]') {
        yield { type: 'done', stopReason, usage };
        return;
      }
      const data = parseJson(p, e.data);
      if (data.error) throw new Error(`${p.name} stream error: ${str(obj(data.error).message, 'unknown')}`);
      const choice = obj(Array.isArray(data.choices) ? data.choices[0] : undefined);
      const content = obj(choice.delta).content;
      if (typeof content === 'string' && content) yield { type: 'text', text: content };
      if (choice.finish_reason) stopReason = openAiStop(choice.finish_reason);
      if (data.usage) {
        const u = obj(data.usage);
        usage.inputTokens = num(u.prompt_tokens);
        usage.outputTokens = num(u.completion_tokens);
      }
    }
    throw new Error(`${p.name} stream ended before [DONE]`);
  },
  errorMessage: (json) => {
    const message = obj(obj(json).error).message;
    return typeof message === 'string' ? message : undefined;
  },
  health: (p) => ({ url: join(p.url, '/v1/models'), headers: bearer(p) }),
};

function geminiResult(data: Json): { text: string; finish: unknown; usage: Usage | undefined } {
  const candidate = obj(Array.isArray(data.candidates) ? data.candidates[0] : undefined);
  const parts = obj(candidate.content).parts;
  const text = Array.isArray(parts) ? parts.map((part) => str(obj(part).text)).join('') : '';
  const meta = data.usageMetadata ? obj(data.usageMetadata) : undefined;
  return {
    text,
    finish: candidate.finishReason,
    usage: meta ? { inputTokens: num(meta.promptTokenCount), outputTokens: num(meta.candidatesTokenCount) } : undefined,
  };
}

const gemini: ProviderWire = {
  request(p, req, model) {
    const action = req.stream ? ':streamGenerateContent?alt=sse' : ':generateContent';
    return {
      url: join(p.url, `/v1beta/models/${encodeURIComponent(model)}${action}`),
      headers: { 'x-goog-api-key': p.apiKey ?? '' },
      body: {
        contents: req.messages.map((m) => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: [{ text: m.content }] })),
        systemInstruction: req.system ? { parts: [{ text: req.system }] } : undefined,
        generationConfig: { maxOutputTokens: req.maxTokens, temperature: req.temperature, topP: req.topP, stopSequences: req.stop },
      },
    };
  },
  parse(p, json) {
    const body = obj(json);
    if (!Array.isArray(body.candidates)) throw new MalformedReplyError(p.name, 'no candidates');
    const r = geminiResult(body);
    return {
      id: str(body.responseId, randomUUID()),
      model: str(body.modelVersion, ''),
      text: r.text,
      stopReason: geminiStop(r.finish),
      usage: r.usage ?? { inputTokens: 0, outputTokens: 0 },
    };
  },
  async *stream(p, body) {
    let usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let stopReason: StopReason | undefined;
    for await (const e of sseEvents(body)) {
      const data = parseJson(p, e.data);
      if (data.error) throw new Error(`${p.name} stream error: ${str(obj(data.error).message, 'unknown')}`);
      const r = geminiResult(data);
      if (r.text) yield { type: 'text', text: r.text };
      if (r.usage) usage = r.usage;
      if (r.finish) stopReason = geminiStop(r.finish);
    }
    // Gemini has no end marker: the stream ends after the candidate that carries finishReason.
    if (!stopReason) throw new Error(`${p.name} stream ended without a finishReason`);
    yield { type: 'done', stopReason, usage };
  },
  errorMessage: (json) => {
    const message = obj(obj(json).error).message;
    return typeof message === 'string' ? message : undefined;
  },
  health: (p) => ({ url: join(p.url, '/v1beta/models'), headers: { 'x-goog-api-key': p.apiKey ?? '' } }),
};

const ollama: ProviderWire = {
  request(p, req, model) {
    const messages = [...(req.system ? [{ role: 'system', content: req.system }] : []), ...req.messages];
    return {
      url: join(p.url, '/api/chat'),
      headers: {},
      body: { model, messages, stream: req.stream, options: { num_predict: req.maxTokens, temperature: req.temperature, top_p: req.topP, stop: req.stop } },
    };
  },
  parse(p, json) {
    const body = obj(json);
    const message = obj(body.message);
    if (typeof message.content !== 'string' || body.done !== true) throw new MalformedReplyError(p.name, 'no message.content');
    return {
      id: randomUUID(),
      model: str(body.model, ''),
      text: message.content,
      stopReason: body.done_reason === 'length' ? 'length' : 'end',
      usage: { inputTokens: num(body.prompt_eval_count), outputTokens: num(body.eval_count) },
    };
  },
  async *stream(p, body) {
    for await (const line of ndjsonLines(body)) {
      const data = parseJson(p, line);
      if (typeof data.error === 'string') throw new Error(`${p.name} stream error: ${data.error}`);
      const content = obj(data.message).content;
      if (typeof content === 'string' && content) yield { type: 'text', text: content };
      if (data.done === true) {
        yield {
          type: 'done',
          stopReason: data.done_reason === 'length' ? 'length' : 'end',
          usage: { inputTokens: num(data.prompt_eval_count), outputTokens: num(data.eval_count) },
        };
        return;
      }
    }
    throw new Error(`${p.name} stream ended before done`);
  },
  errorMessage: (json) => {
    const error = obj(json).error;
    return typeof error === 'string' ? error : undefined;
  },
  health: (p) => ({ url: join(p.url, '/api/tags'), headers: {} }),
};

export const PROVIDER_WIRES: Record<LlmProviderKind, ProviderWire> = { anthropic, openai, gemini, ollama };
