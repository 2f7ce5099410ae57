import { randomBytes } from 'node:crypto';
import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { closeServer, listenLocal, trackSockets } from './local-server';

export type ProviderWire = 'anthropic' | 'openai' | 'gemini' | 'ollama';

export type FakeBehaviour =
  /** A good answer; default text 'Hello from <wire>', tokens 10 in / 5 out. `delayMs` delays the first byte. */
  | { kind: 'ok'; text?: string; inputTokens?: number; outputTokens?: number; delayMs?: number }
  /** An error reply with the provider's real error body, and a Retry-After header if given. */
  | { kind: 'status'; status: number; retryAfter?: string; message?: string }
  /** Reads the request and never answers (until the client disconnects or stop()). */
  | { kind: 'hang' }
  /** 200 with a body that is not JSON (for a stream: one data line that is not JSON). */
  | { kind: 'malformed' }
  /** 200, headers and the opening frames that carry no text, then the socket is destroyed. */
  | { kind: 'cut-before-first-token' }
  /** The first text delta is sent, then the socket is destroyed. */
  | { kind: 'cut-after-first-token' };

export interface ReceivedRequest {
  method: string;
  /** As sent, query string included. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON; the raw text if it was not JSON; undefined if empty. */
  body: unknown;
  at: number;
}

/**
 * A local stand-in for an LLM provider's HTTP API (Anthropic, OpenAI, Gemini or Ollama), speaking
 * that provider's real wire format, so end-to-end tests run without the internet. Each generation
 * request takes the next scripted behaviour (or `fallback`), which is how tests make it misbehave.
 * Requests the real API would reject (no key, missing fields, unknown path) are rejected the same
 * way and take no behaviour.
 */
export class FakeLlmProvider {
  readonly requests: ReceivedRequest[] = [];
  fallback: FakeBehaviour = { kind: 'ok' };
  tagsHealthy = true;
  private readonly queue: FakeBehaviour[] = [];
  private readonly sockets: Set<Socket>;
  private readonly stopping = new AbortController();
  private readonly server: Server;
  private port = 0;

  private constructor(readonly wire: ProviderWire) {
    this.server = createServer((req, res) => {
      // A handler failure must not leave the client waiting.
      void this.handle(req, res).catch(() => res.destroy());
    });
    this.sockets = trackSockets(this.server);
  }

  static async start(wire: ProviderWire, port = 0): Promise<FakeLlmProvider> {
    const provider = new FakeLlmProvider(wire);
    const server = provider.server;
    provider.port = await listenLocal(server, port, 'fake LLM provider');
    return provider;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  script(...behaviours: FakeBehaviour[]): void {
    this.queue.push(...behaviours);
  }

  reset(): void {
    this.queue.length = 0;
    this.requests.length = 0;
    this.fallback = { kind: 'ok' };
    this.tagsHealthy = true;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await closeServer(this.server, this.sockets);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The client may vanish mid-reply; that is the point of several behaviours.
    res.on('error', () => undefined);
    const disconnected = new AbortController();
    res.once('close', () => disconnected.abort());
    const signal = AbortSignal.any([this.stopping.signal, disconnected.signal]);

    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    const parsed = parseJson(raw);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    this.requests.push({
      method,
      path,
      headers: req.headers,
      body: parsed.ok ? parsed.value : raw || undefined,
      at: Date.now(),
    });

    const url = new URL(path, 'http://fake.invalid');
    const routed = this.route(method, url, req.headers, parsed);
    if (routed.kind === 'reply') {
      return send(res, routed.reply);
    }
    const behaviour = this.queue.shift() ?? this.fallback;
    await this.perform(res, routed.generation, behaviour, signal);
  }

  private route(method: string, url: URL, headers: IncomingHttpHeaders, parsed: Parsed): Routed {
    switch (this.wire) {
      case 'anthropic':
        return routeAnthropic(method, url, headers, parsed);
      case 'openai':
        return routeOpenai(method, url, headers, parsed);
      case 'gemini':
        return routeGemini(method, url, headers, parsed);
      case 'ollama':
        return routeOllama(method, url, parsed, this.tagsHealthy);
    }
  }

  private async perform(
    res: ServerResponse,
    generation: Generation,
    behaviour: FakeBehaviour,
    signal: AbortSignal,
  ): Promise<void> {
    const wire = this.wire;
    if (behaviour.kind === 'status') {
      const headers: OutgoingHttpHeaders =
        behaviour.retryAfter === undefined ? {} : { 'retry-after': behaviour.retryAfter };
      return send(res, errorReply(wire, behaviour.status, behaviour.message, behaviour.retryAfter, headers));
    }
    if (behaviour.kind === 'hang') {
      return;
    }
    if (behaviour.kind === 'ok' && behaviour.delayMs && !(await pause(behaviour.delayMs, signal))) {
      return;
    }

    const ok = behaviour.kind === 'ok' ? behaviour : undefined;
    const text = ok?.text ?? `Hello from ${wire}`;
    const usage: Usage = { input: ok?.inputTokens ?? 10, output: ok?.outputTokens ?? 5 };

    if (!generation.stream) {
      const body =
        behaviour.kind === 'malformed'
          ? '{"id": "truncated", "content": ['
          : JSON.stringify(completeBody(wire, generation, text, usage));
      res.writeHead(200, {
        'content-type': JSON_TYPE[wire],
        'content-length': Buffer.byteLength(body),
        ...wireHeaders(wire),
      });
      if (behaviour.kind === 'cut-before-first-token') {
        res.flushHeaders();
        return cut(res);
      }
      if (behaviour.kind === 'cut-after-first-token') {
        // Half a body under a full content-length: the client sees the connection end early.
        if (await write(res, body.slice(0, Math.floor(body.length / 2)))) {
          cut(res);
        }
        return;
      }
      res.end(body);
      return;
    }

    const plan = streamPlan(wire, generation, text, usage);
    res.writeHead(200, {
      'content-type': generation.jsonArray ? JSON_TYPE.gemini : STREAM_TYPE[wire],
      'cache-control': 'no-cache',
      ...wireHeaders(wire),
    });
    switch (behaviour.kind) {
      case 'malformed':
        if (await write(res, plan.malformed)) {
          res.end();
        }
        return;
      case 'cut-before-first-token':
        res.flushHeaders();
        if (await writeAll(res, plan.head)) {
          cut(res);
        }
        return;
      case 'cut-after-first-token':
        if (await writeAll(res, [...plan.head, ...plan.deltas.slice(0, 1)])) {
          cut(res);
        }
        return;
      case 'ok':
        if (await writeAll(res, [...plan.head, ...plan.deltas, ...plan.tail])) {
          res.end();
        }
        return;
    }
  }
}

interface Usage {
  input: number;
  output: number;
}

interface Generation {
  model: string;
  stream: boolean;
  /** Gemini's streamGenerateContent without alt=sse: one JSON array, written element by element. */
  jsonArray: boolean;
  /** OpenAI's stream_options.include_usage. */
  includeUsage: boolean;
}

interface Reply {
  status: number;
  headers: OutgoingHttpHeaders;
  body: string;
}

type Routed = { kind: 'reply'; reply: Reply } | { kind: 'generate'; generation: Generation };
type Parsed = { ok: true; value: unknown } | { ok: false };

/** The frames of one streamed answer. `head` carries no text; each of `deltas` carries one piece. */
interface StreamPlan {
  head: string[];
  deltas: string[];
  tail: string[];
  malformed: string;
}

const JSON_TYPE: Record<ProviderWire, string> = {
  anthropic: 'application/json',
  openai: 'application/json',
  gemini: 'application/json; charset=UTF-8',
  ollama: 'application/json; charset=utf-8',
};

const STREAM_TYPE: Record<ProviderWire, string> = {
  anthropic: 'text/event-stream; charset=utf-8',
  openai: 'text/event-stream; charset=utf-8',
  gemini: 'text/event-stream',
  ollama: 'application/x-ndjson',
};

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomId(length: number): string {
  return Array.from(randomBytes(length), (byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(raw: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

function generate(generation: Generation): Routed {
  return { kind: 'generate', generation };
}

function reply(reply: Reply): Routed {
  return { kind: 'reply', reply };
}

function jsonReply(wire: ProviderWire, status: number, value: unknown, headers: OutgoingHttpHeaders = {}): Reply {
  return {
    status,
    headers: { 'content-type': JSON_TYPE[wire], ...wireHeaders(wire), ...headers },
    body: JSON.stringify(value),
  };
}

/** Request ids the real APIs put on every response, which clients log. */
function wireHeaders(wire: ProviderWire): OutgoingHttpHeaders {
  if (wire === 'anthropic') {
    return { 'request-id': `req_01${randomId(22)}` };
  }
  if (wire === 'openai') {
    return { 'x-request-id': `req_${randomBytes(16).toString('hex')}` };
  }
  return {};
}

function defaultMessage(status: number): string {
  if (status === 429) {
    return 'Rate limit exceeded, please retry later';
  }
  if (status === 529) {
    return 'Overloaded';
  }
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}

function anthropicErrorType(status: number): string {
  const types: Record<number, string> = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    403: 'permission_error',
    404: 'not_found_error',
    413: 'request_too_large',
    429: 'rate_limit_error',
    500: 'api_error',
    529: 'overloaded_error',
  };
  return types[status] ?? 'api_error';
}

function openaiError(
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): Reply {
  return jsonReply('openai', status, { error: { message, type, param, code } });
}

function googleStatus(status: number): string {
  const statuses: Record<number, string> = {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    409: 'ABORTED',
    429: 'RESOURCE_EXHAUSTED',
    499: 'CANCELLED',
    500: 'INTERNAL',
    501: 'UNIMPLEMENTED',
    503: 'UNAVAILABLE',
    504: 'DEADLINE_EXCEEDED',
  };
  return statuses[status] ?? 'UNKNOWN';
}

/** The error reply each provider really sends for `status`. */
function errorReply(
  wire: ProviderWire,
  status: number,
  message = defaultMessage(status),
  retryAfter?: string,
  headers: OutgoingHttpHeaders = {},
): Reply {
  switch (wire) {
    case 'anthropic':
      return jsonReply(wire, status, { type: 'error', error: { type: anthropicErrorType(status), message } }, headers);
    case 'openai': {
      // Real rate-limit bodies say which limit (requests or tokens) in `type`.
      const [type, code] =
        status === 429
          ? ['requests', 'rate_limit_exceeded']
          : status === 401
            ? ['invalid_request_error', 'invalid_api_key']
            : status === 404
              ? ['invalid_request_error', 'model_not_found']
              : status >= 500
                ? ['server_error', null]
                : ['invalid_request_error', null];
      return jsonReply(wire, status, { error: { message, type, param: null, code } }, headers);
    }
    case 'gemini': {
      const error: Record<string, unknown> = { code: status, message, status: googleStatus(status) };
      // Gemini says when to retry in the body, as google.rpc.RetryInfo.
      if (status === 429 && retryAfter !== undefined && /^\d+$/.test(retryAfter)) {
        error.details = [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfter}s` }];
      }
      return jsonReply(wire, status, { error }, headers);
    }
    case 'ollama':
      return jsonReply(wire, status, { error: message }, headers);
  }
}

function routeAnthropic(method: string, url: URL, headers: IncomingHttpHeaders, parsed: Parsed): Routed {
  if (method !== 'POST' || url.pathname !== '/v1/messages') {
    return reply(errorReply('anthropic', 404, 'Not Found'));
  }
  if (!headers['x-api-key']) {
    return reply(errorReply('anthropic', 401, 'x-api-key header is required'));
  }
  // The real API answers a missing version with 400, not 401.
  if (!headers['anthropic-version']) {
    return reply(errorReply('anthropic', 400, 'anthropic-version: header is required'));
  }
  if (!parsed.ok || !isRecord(parsed.value)) {
    return reply(errorReply('anthropic', 400, 'There was an error parsing the body of your request as JSON'));
  }
  const body = parsed.value;
  for (const [field, ok] of [
    ['model', typeof body.model === 'string'],
    ['max_tokens', typeof body.max_tokens === 'number'],
    ['messages', Array.isArray(body.messages)],
  ] as const) {
    if (!ok) {
      return reply(errorReply('anthropic', 400, `${field}: Field required`));
    }
  }
  return generate({ model: String(body.model), stream: body.stream === true, jsonArray: false, includeUsage: false });
}

function routeOpenai(method: string, url: URL, headers: IncomingHttpHeaders, parsed: Parsed): Routed {
  if (method !== 'POST' || url.pathname !== '/v1/chat/completions') {
    return reply(openaiError(404, `Invalid URL (${method} ${url.pathname})`, 'invalid_request_error', null));
  }
  if (!/^Bearer\s+\S/i.test(headers.authorization ?? '')) {
    const message =
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
    return reply(openaiError(401, message, 'invalid_request_error', null));
  }
  if (!parsed.ok || !isRecord(parsed.value)) {
    return reply(openaiError(400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null));
  }
  const body = parsed.value;
  if (typeof body.model !== 'string') {
    return reply(openaiError(400, 'you must provide a model parameter', 'invalid_request_error', null));
  }
  if (!Array.isArray(body.messages)) {
    return reply(
      openaiError(
        400,
        "Missing required parameter: 'messages'.",
        'invalid_request_error',
        'missing_required_parameter',
        'messages',
      ),
    );
  }
  const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
  return generate({ model: body.model, stream: body.stream === true, jsonArray: false, includeUsage });
}

function routeGemini(method: string, url: URL, headers: IncomingHttpHeaders, parsed: Parsed): Routed {
  const [, model, action] =
    /^\/(?:v1|v1beta)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(url.pathname) ?? [];
  if (method !== 'POST' || !model) {
    return reply(errorReply('gemini', 404, 'Requested entity was not found.'));
  }
  const key =
    headers['x-goog-api-key'] ??
    url.searchParams.get('key') ??
    (/^Bearer\s+\S/i.test(headers.authorization ?? '') ? 'oauth' : '');
  if (!key) {
    const message =
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";
    return reply(errorReply('gemini', 403, message));
  }
  if (!parsed.ok || !isRecord(parsed.value)) {
    return reply(errorReply('gemini', 400, 'Invalid JSON payload received.'));
  }
  const contents = parsed.value.contents;
  if (!Array.isArray(contents) || contents.length === 0) {
    return reply(errorReply('gemini', 400, '* GenerateContentRequest.contents: contents is not specified\n'));
  }
  const stream = action === 'streamGenerateContent';
  return generate({
    model: decodeURIComponent(model),
    stream,
    jsonArray: stream && url.searchParams.get('alt') !== 'sse',
    includeUsage: false,
  });
}

function routeOllama(method: string, url: URL, parsed: Parsed, tagsHealthy: boolean): Routed {
  const get = method === 'GET' || method === 'HEAD';
  if (get && url.pathname === '/') {
    return reply({ status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Ollama is running' });
  }
  if (get && url.pathname === '/api/version') {
    return reply(jsonReply('ollama', 200, { version: '0.12.0' }));
  }
  if (get && url.pathname === '/api/tags') {
    return reply(
      tagsHealthy ? jsonReply('ollama', 200, ollamaTags()) : errorReply('ollama', 503, 'ollama is not ready'),
    );
  }
  if (method === 'POST' && url.pathname === '/api/chat') {
    if (!parsed.ok || !isRecord(parsed.value)) {
      return reply(errorReply('ollama', 400, 'invalid character in request body'));
    }
    const body = parsed.value;
    if (typeof body.model !== 'string' || !body.model) {
      return reply(errorReply('ollama', 400, 'model is required'));
    }
    // Ollama streams unless told not to.
    return generate({ model: body.model, stream: body.stream !== false, jsonArray: false, includeUsage: false });
  }
  // Ollama's router answers unknown routes in plain text, not JSON.
  return reply({ status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found' });
}

function ollamaTags(): unknown {
  return {
    models: [
      {
        name: 'llama3.1:latest',
        model: 'llama3.1:latest',
        modified_at: '2025-01-15T10:00:00.000000000Z',
        size: 4920753328,
        digest: '46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e',
        details: {
          parent_model: '',
          format: 'gguf',
          family: 'llama',
          families: ['llama'],
          parameter_size: '8.0B',
          quantization_level: 'Q4_K_M',
        },
      },
    ],
  };
}

/** Ollama reports counts with durations in nanoseconds. */
function ollamaStats(usage: Usage): Record<string, number> {
  const load = 2_000_000;
  const promptEval = usage.input * 1_000_000;
  const evalDuration = usage.output * 10_000_000;
  return {
    total_duration: load + promptEval + evalDuration,
    load_duration: load,
    prompt_eval_count: usage.input,
    prompt_eval_duration: promptEval,
    eval_count: usage.output,
    eval_duration: evalDuration,
  };
}

function completeBody(wire: ProviderWire, generation: Generation, text: string, usage: Usage): unknown {
  const model = generation.model;
  switch (wire) {
    case 'anthropic':
      return {
        id: `msg_01${randomId(22)}`,
        type: 'message',
        role: 'assistant',
        model,
        content: [{ type: 'text', text }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: usage.input, output_tokens: usage.output },
      };
    case 'openai':
      return {
        id: `chatcmpl-${randomId(29)}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text, refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: {
          prompt_tokens: usage.input,
          completion_tokens: usage.output,
          total_tokens: usage.input + usage.output,
        },
      };
    case 'gemini':
      return geminiChunk(model, randomId(22), text, usage);
    case 'ollama':
      return {
        model,
        created_at: new Date().toISOString(),
        message: { role: 'assistant', content: text },
        done_reason: 'stop',
        done: true,
        ...ollamaStats(usage),
      };
  }
}

/** One GenerateContentResponse; with `usage` it is the last one (finishReason and usageMetadata). */
function geminiChunk(model: string, responseId: string, text: string, usage?: Usage): unknown {
  return {
    candidates: [
      { content: { parts: [{ text }], role: 'model' }, ...(usage ? { finishReason: 'STOP' } : {}), index: 0 },
    ],
    ...(usage
      ? {
          usageMetadata: {
            promptTokenCount: usage.input,
            candidatesTokenCount: usage.output,
            totalTokenCount: usage.input + usage.output,
          },
        }
      : {}),
    modelVersion: model,
    responseId,
  };
}

/** Word by word, always at least two pieces when the text has two characters. */
function splitText(text: string): string[] {
  const words = text.split(/(?<=\s)(?=\S)/);
  if (words.length >= 2) {
    return words;
  }
  const chars = [...text];
  if (chars.length < 2) {
    return [text];
  }
  const half = Math.ceil(chars.length / 2);
  return [chars.slice(0, half).join(''), chars.slice(half).join('')];
}

function streamPlan(wire: ProviderWire, generation: Generation, text: string, usage: Usage): StreamPlan {
  const pieces = splitText(text);
  const model = generation.model;
  switch (wire) {
    case 'anthropic': {
      const frame = (data: { type: string; [key: string]: unknown }) =>
        `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
      const message = {
        id: `msg_01${randomId(22)}`,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: usage.input, output_tokens: 1 },
      };
      // The block opens (and a ping) just before the first delta, so cut-before-first-token ends after message_start.
      const opening =
        frame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
        frame({ type: 'ping' });
      return {
        head: [frame({ type: 'message_start', message })],
        deltas: pieces.map(
          (piece, i) =>
            (i === 0 ? opening : '') +
            frame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }),
        ),
        tail: [
          frame({ type: 'content_block_stop', index: 0 }),
          frame({
            type: 'message_delta',
            delta: { stop_reason: 'end_turn', stop_sequence: null },
            usage: { output_tokens: usage.output },
          }),
          frame({ type: 'message_stop' }),
        ],
        malformed:
          'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":\n\n',
      };
    }
    case 'openai': {
      const id = `chatcmpl-${randomId(29)}`;
      const created = Math.floor(Date.now() / 1000);
      // With include_usage every chunk carries `usage: null` until the final usage chunk.
      const extra = generation.includeUsage ? { usage: null } : {};
      const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...extra })}\n\n`;
      const usageChunk = `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [],
        usage: {
          prompt_tokens: usage.input,
          completion_tokens: usage.output,
          total_tokens: usage.input + usage.output,
        },
      })}\n\n`;
      return {
        head: [chunk({ role: 'assistant', content: '', refusal: null }, null)],
        deltas: pieces.map((piece) => chunk({ content: piece }, null)),
        tail: [chunk({}, 'stop'), ...(generation.includeUsage ? [usageChunk] : []), 'data: [DONE]\n\n'],
        malformed: 'data: {"id":"chatcmpl-broken","choices":[{"delta":{"content":\n\n',
      };
    }
    case 'gemini': {
      const responseId = randomId(22);
      const chunks = pieces.map((piece, i) =>
        JSON.stringify(geminiChunk(model, responseId, piece, i === pieces.length - 1 ? usage : undefined)),
      );
      if (generation.jsonArray) {
        return {
          head: [],
          deltas: chunks.map((chunk, i) => (i === 0 ? '[' : ',\r\n') + chunk),
          tail: [']'],
          malformed: '[{"candidates": [{"content": {"parts": [{"text": ',
        };
      }
      return {
        head: [],
        deltas: chunks.map((chunk) => `data: ${chunk}\r\n\r\n`),
        tail: [],
        malformed: 'data: {"candidates": [{"content": \r\n\r\n',
      };
    }
    case 'ollama': {
      const createdAt = new Date().toISOString();
      const line = (content: string) =>
        `${JSON.stringify({ model, created_at: createdAt, message: { role: 'assistant', content }, done: false })}\n`;
      const last = {
        model,
        created_at: createdAt,
        message: { role: 'assistant', content: '' },
        done_reason: 'stop',
        done: true,
        ...ollamaStats(usage),
      };
      return {
        head: [],
        deltas: pieces.map(line),
        tail: [`${JSON.stringify(last)}\n`],
        malformed: '{"model":"broken","message":{"content":\n',
      };
    }
  }
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

/** Resolves true once the chunk is handed to the socket, false if the client has gone. */
function write(res: ServerResponse, chunk: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => res.write(chunk, (error) => resolve(!error)));
}

async function writeAll(res: ServerResponse, chunks: string[]): Promise<boolean> {
  for (const chunk of chunks) {
    if (!(await write(res, chunk))) {
      return false;
    }
  }
  return true;
}

/** What was written still arrives; then the connection closes before the body is complete. */
function cut(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) {
    return;
  }
  socket.end(() => socket.destroy());
}

/** False if the wait was abandoned (client gone or provider stopped). */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
