import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { eventually } from './eventually';
import { FakeLlmProvider } from './fake-llm-provider';
import type { ProviderWire } from './fake-llm-provider';
import { present } from './present';

function post(
  provider: FakeLlmProvider,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(provider.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** The whole body as text, and the error if the connection broke before its end. */
async function readAll(response: Response): Promise<{ text: string; error?: unknown }> {
  if (!response.body) {
    return { text: '' };
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return { text };
      }
      text += decoder.decode(value as Uint8Array, { stream: true });
    }
  } catch (error) {
    return { text, error };
  }
}

/** SSE frames, LF or CRLF framed: the event name and the data text. */
function sse(text: string): { event?: string; data: string }[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim())
    .map((block) => {
      let event: string | undefined;
      let data = '';
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event: ')) {
          event = line.slice('event: '.length);
        } else if (line.startsWith('data: ')) {
          data += line.slice('data: '.length);
        }
      }
      return { event, data };
    });
}

function parse<T>(text: string): T {
  return JSON.parse(text) as T;
}

function ndjson<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line)
    .map((line) => parse<T>(line));
}

async function errorReply<T>(response: Response, status: number, retryAfter: string): Promise<T> {
  assert.equal(response.status, status);
  assert.equal(response.headers.get('retry-after'), retryAfter);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  return parse<T>(await response.text());
}

// Just the fields the assertions read.
interface AnthropicEvent {
  type: string;
  message?: { content: unknown[]; usage: unknown };
  delta?: { text?: string; stop_reason?: string };
  usage?: unknown;
}
interface AnthropicError {
  type: string;
  error: { type: string; message: string };
}
interface OpenaiChunk {
  object: string;
  choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: unknown;
}
interface OpenaiError {
  error: { message: string; type: string; param: unknown; code: string | null };
}
interface GeminiChunk {
  candidates: { content: { parts: { text: string }[] }; finishReason?: string }[];
  usageMetadata?: unknown;
}
interface GeminiError {
  error: { code: number; message: string; status: string; details?: { retryDelay?: string }[] };
}
interface OllamaLine {
  done: boolean;
  done_reason?: string;
  message: { content: string };
  prompt_eval_count?: number;
  eval_count?: number;
}

function useProvider(wire: ProviderWire): () => FakeLlmProvider {
  let provider: FakeLlmProvider | undefined;
  before(async () => {
    provider = await FakeLlmProvider.start(wire);
  });
  beforeEach(() => provider?.reset());
  after(() => provider?.stop());
  return () => {
    assert.ok(provider);
    return provider;
  };
}

describe('FakeLlmProvider: anthropic', () => {
  const provider = useProvider('anthropic');
  const auth = { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' };
  const request = (stream: boolean) => ({
    model: 'claude-sonnet-4-5',
    max_tokens: 100,
    messages: [{ role: 'user', content: 'Hi' }],
    stream,
  });

  it('answers a complete message with the scripted text and usage', async () => {
    provider().script({ kind: 'ok', text: 'Hi there', inputTokens: 12, outputTokens: 7 });
    const response = await post(provider(), '/v1/messages', request(false), auth);
    assert.equal(response.status, 200);
    const { id, ...rest } = parse<{ id: string }>(await response.text());
    assert.match(id, /^msg_/);
    assert.deepEqual(rest, {
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'Hi there' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 7 },
    });
    assert.deepEqual(provider().requests[0]?.body, request(false));
  });

  it('streams the message events, whose deltas reassemble the text', async () => {
    provider().script({ kind: 'ok', text: 'one two three', inputTokens: 3, outputTokens: 4 });
    const response = await post(provider(), '/v1/messages', request(true), auth);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const { text, error } = await readAll(response);
    assert.equal(error, undefined);
    const frames = sse(text);
    const events = frames.map((f) => parse<AnthropicEvent>(f.data));
    assert.deepEqual(
      frames.map((f) => f.event),
      events.map((e) => e.type),
    );
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'message_start',
        'content_block_start',
        'ping',
        'content_block_delta',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
    const deltas = events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta?.text);
    assert.equal(deltas.join(''), 'one two three');
    assert.deepEqual(events[0]?.message?.content, []);
    assert.deepEqual(events[0]?.message?.usage, { input_tokens: 3, output_tokens: 1 });
    assert.deepEqual(events[7]?.usage, { output_tokens: 4 });
    assert.equal(events[7]?.delta?.stop_reason, 'end_turn');
  });

  it('answers a scripted status with its error body and Retry-After', async () => {
    provider().script(
      { kind: 'status', status: 529, retryAfter: '2' },
      { kind: 'status', status: 429, retryAfter: '5', message: 'slow down' },
    );
    const overloaded = await errorReply<AnthropicError>(
      await post(provider(), '/v1/messages', request(false), auth),
      529,
      '2',
    );
    assert.equal(overloaded.type, 'error');
    assert.equal(overloaded.error.type, 'overloaded_error');
    assert.equal(typeof overloaded.error.message, 'string');
    const limited = await errorReply<AnthropicError>(
      await post(provider(), '/v1/messages', request(true), auth),
      429,
      '5',
    );
    assert.deepEqual(limited, { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
  });

  it('cuts the stream after the first delta', async () => {
    provider().script({ kind: 'cut-after-first-token' });
    const { text, error } = await readAll(await post(provider(), '/v1/messages', request(true), auth));
    assert.ok(error, 'the body should end abruptly');
    const events = sse(text).map((f) => parse<AnthropicEvent>(f.data));
    assert.deepEqual(
      events.map((e) => e.type),
      ['message_start', 'content_block_start', 'ping', 'content_block_delta'],
    );
    assert.equal(events[3]?.delta?.text, 'Hello ');
  });

  it('rejects what the API rejects (no key, missing field, unknown path) without consuming the script', async () => {
    provider().script({ kind: 'status', status: 500 });
    const noKey = await post(provider(), '/v1/messages', request(false), { 'anthropic-version': '2023-06-01' });
    assert.equal(noKey.status, 401);
    assert.equal(parse<AnthropicError>(await noKey.text()).error.type, 'authentication_error');
    const noMaxTokens = await post(provider(), '/v1/messages', { model: 'm', messages: [] }, auth);
    assert.equal(noMaxTokens.status, 400);
    assert.deepEqual(parse(await noMaxTokens.text()), {
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    });
    const unknown = await post(provider(), '/v1/complete', {}, auth);
    assert.equal(unknown.status, 404);
    assert.equal(parse<AnthropicError>(await unknown.text()).error.type, 'not_found_error');
    assert.equal((await post(provider(), '/v1/messages', request(false), auth)).status, 500);
  });
});

describe('FakeLlmProvider: openai', () => {
  const provider = useProvider('openai');
  const auth = { authorization: 'Bearer sk-test' };
  const request = (stream: boolean, includeUsage = false) => ({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Hi' }],
    max_completion_tokens: 50,
    ...(stream ? { stream, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) } : {}),
  });
  /** The chunks before `data: [DONE]`, which must be there unless `cut`. */
  const chunks = (text: string, cut = false): OpenaiChunk[] => {
    const data = sse(text).map((f) => f.data);
    if (!cut) {
      assert.equal(data.pop(), '[DONE]');
    }
    assert.ok(!data.includes('[DONE]'));
    return data.map((d) => parse<OpenaiChunk>(d));
  };
  const contents = (list: OpenaiChunk[]): string[] =>
    list.flatMap((c) => c.choices.map((choice) => choice.delta.content ?? '')).filter((c) => c);

  it('answers a complete chat completion with the scripted text and usage', async () => {
    provider().script({ kind: 'ok', text: 'Hi there', inputTokens: 12, outputTokens: 7 });
    const response = await post(provider(), '/v1/chat/completions', request(false), auth);
    assert.equal(response.status, 200);
    const { id, created, ...rest } = parse<{ id: string; created: number }>(await response.text());
    assert.match(id, /^chatcmpl-/);
    assert.ok(Math.abs(created - Date.now() / 1000) < 60);
    assert.deepEqual(rest, {
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi there', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
    });
  });

  it('streams chunks that reassemble the text, with a usage chunk only when asked', async () => {
    provider().script(
      { kind: 'ok', text: 'one two three', inputTokens: 3, outputTokens: 4 },
      { kind: 'ok', text: 'one two' },
    );
    const response = await post(provider(), '/v1/chat/completions', request(true, true), auth);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const { text, error } = await readAll(response);
    assert.equal(error, undefined);
    const list = chunks(text);
    for (const chunk of list) {
      assert.equal(chunk.object, 'chat.completion.chunk');
    }
    assert.deepEqual(list[0]?.choices[0]?.delta, { role: 'assistant', content: '', refusal: null });
    assert.deepEqual(contents(list), ['one ', 'two ', 'three']);
    assert.deepEqual(list.at(-2)?.choices[0], { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
    assert.deepEqual(list.at(-1)?.choices, []);
    assert.deepEqual(list.at(-1)?.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });

    const plain = chunks((await readAll(await post(provider(), '/v1/chat/completions', request(true), auth))).text);
    assert.equal(plain.at(-1)?.choices[0]?.finish_reason, 'stop');
    assert.ok(plain.every((chunk) => !('usage' in chunk)));
  });

  it('answers a scripted status with its error body and Retry-After', async () => {
    provider().script({ kind: 'status', status: 429, retryAfter: '20' });
    const body = await errorReply<OpenaiError>(
      await post(provider(), '/v1/chat/completions', request(true), auth),
      429,
      '20',
    );
    assert.equal(typeof body.error.message, 'string');
    assert.equal(typeof body.error.type, 'string');
    assert.equal(body.error.param, null);
    assert.equal(body.error.code, 'rate_limit_exceeded');
  });

  it('cuts the stream after the first delta, or after the role chunk before it', async () => {
    provider().script({ kind: 'cut-after-first-token' }, { kind: 'cut-before-first-token' });
    const afterFirst = await readAll(await post(provider(), '/v1/chat/completions', request(true), auth));
    assert.ok(afterFirst.error, 'the body should end abruptly');
    assert.deepEqual(contents(chunks(afterFirst.text, true)), ['Hello ']);

    const beforeFirst = await readAll(await post(provider(), '/v1/chat/completions', request(true), auth));
    assert.ok(beforeFirst.error, 'the body should end abruptly');
    const list = chunks(beforeFirst.text, true);
    assert.equal(list.length, 1);
    assert.equal(list[0]?.choices[0]?.delta.role, 'assistant');
    assert.deepEqual(contents(list), []);
  });

  it('rejects a request without a bearer token', async () => {
    const response = await post(provider(), '/v1/chat/completions', request(false));
    assert.equal(response.status, 401);
    assert.equal(parse<OpenaiError>(await response.text()).error.type, 'invalid_request_error');
  });
});

describe('FakeLlmProvider: gemini', () => {
  const provider = useProvider('gemini');
  const key = { 'x-goog-api-key': 'AIza-test' };
  const request = { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], generationConfig: { maxOutputTokens: 50 } };
  const texts = (list: GeminiChunk[]): string[] =>
    list.map((c) => present(c.candidates[0]?.content.parts[0]?.text, 'the candidate text'));
  const frames = (text: string): GeminiChunk[] => sse(text).map((f) => parse<GeminiChunk>(f.data));

  it('answers generateContent with the scripted text and usage', async () => {
    provider().script({ kind: 'ok', text: 'Hi there', inputTokens: 12, outputTokens: 7 });
    const response = await post(provider(), '/v1beta/models/gemini-2.5-flash:generateContent', request, key);
    assert.equal(response.status, 200);
    const { responseId, ...rest } = parse<{ responseId: string }>(await response.text());
    assert.equal(typeof responseId, 'string');
    assert.deepEqual(rest, {
      candidates: [{ content: { parts: [{ text: 'Hi there' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 7, totalTokenCount: 19 },
      modelVersion: 'gemini-2.5-flash',
    });
  });

  it('streams SSE responses that reassemble the text, the last with finishReason and usage', async () => {
    provider().script({ kind: 'ok', text: 'one two three', inputTokens: 3, outputTokens: 4 });
    const response = await post(
      provider(),
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=AIza-test',
      request,
    );
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const { text, error } = await readAll(response);
    assert.equal(error, undefined);
    assert.ok(text.endsWith('\r\n\r\n'));
    const list = frames(text);
    assert.deepEqual(texts(list), ['one ', 'two ', 'three']);
    const head = present(list[0], 'the first chunk');
    assert.equal(present(head.candidates[0], 'its candidate').finishReason, undefined);
    assert.equal(head.usageMetadata, undefined);
    assert.equal(list[2]?.candidates[0]?.finishReason, 'STOP');
    assert.deepEqual(list[2]?.usageMetadata, { promptTokenCount: 3, candidatesTokenCount: 4, totalTokenCount: 7 });
  });

  it('streams a JSON array without alt=sse', async () => {
    const response = await post(provider(), '/v1beta/models/gemini-2.5-flash:streamGenerateContent', request, key);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(texts(parse<GeminiChunk[]>((await readAll(response)).text)).join(''), 'Hello from gemini');
  });

  it('answers a scripted status with its error body and Retry-After', async () => {
    provider().script(
      { kind: 'status', status: 429, retryAfter: '3' },
      { kind: 'status', status: 503, retryAfter: '1', message: 'The model is overloaded.' },
    );
    const limited = await errorReply<GeminiError>(
      await post(provider(), '/v1beta/models/gemini-2.5-flash:generateContent', request, key),
      429,
      '3',
    );
    assert.equal(limited.error.code, 429);
    assert.equal(limited.error.status, 'RESOURCE_EXHAUSTED');
    assert.equal(limited.error.details?.[0]?.retryDelay, '3s');
    const unavailable = await errorReply(
      await post(provider(), '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', request, key),
      503,
      '1',
    );
    assert.deepEqual(unavailable, { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } });
  });

  it('cuts the stream after the first delta', async () => {
    provider().script({ kind: 'cut-after-first-token' });
    const { text, error } = await readAll(
      await post(provider(), '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', request, key),
    );
    assert.ok(error, 'the body should end abruptly');
    assert.deepEqual(texts(frames(text)), ['Hello ']);
  });

  it('rejects a request without an API key', async () => {
    const response = await post(provider(), '/v1beta/models/gemini-2.5-flash:generateContent', request);
    assert.equal(response.status, 403);
    assert.equal(parse<GeminiError>(await response.text()).error.status, 'PERMISSION_DENIED');
  });
});

describe('FakeLlmProvider: ollama', () => {
  const provider = useProvider('ollama');
  const request = (stream?: boolean) => ({
    model: 'llama3.1:latest',
    messages: [{ role: 'user', content: 'Hi' }],
    ...(stream === undefined ? {} : { stream }),
  });

  it('answers a complete chat with the scripted text and counts', async () => {
    provider().script({ kind: 'ok', text: 'Hi there', inputTokens: 12, outputTokens: 7 });
    const response = await post(provider(), '/api/chat', request(false));
    assert.equal(response.status, 200);
    const body = parse<Record<string, unknown>>(await response.text());
    assert.equal(body.model, 'llama3.1:latest');
    assert.deepEqual(body.message, { role: 'assistant', content: 'Hi there' });
    assert.equal(body.done, true);
    assert.equal(body.done_reason, 'stop');
    assert.equal(body.prompt_eval_count, 12);
    assert.equal(body.eval_count, 7);
    assert.ok(!Number.isNaN(Date.parse(String(body.created_at))));
    for (const field of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration']) {
      assert.equal(typeof body[field], 'number');
    }
  });

  it('streams NDJSON by default, the pieces reassembling the text', async () => {
    provider().script({ kind: 'ok', text: 'one two three', inputTokens: 3, outputTokens: 4 });
    const response = await post(provider(), '/api/chat', request());
    assert.equal(response.headers.get('content-type'), 'application/x-ndjson');
    const { text, error } = await readAll(response);
    assert.equal(error, undefined);
    const lines = ndjson<OllamaLine>(text);
    assert.deepEqual(
      lines.map((line) => [line.message.content, line.done]),
      [
        ['one ', false],
        ['two ', false],
        ['three', false],
        ['', true],
      ],
    );
    const last = present(lines[3], 'the last line');
    assert.deepEqual([last.done_reason, last.prompt_eval_count, last.eval_count], ['stop', 3, 4]);
  });

  it('answers a scripted status with its error body and Retry-After', async () => {
    provider().script({ kind: 'status', status: 503, retryAfter: '4', message: 'server busy' });
    assert.deepEqual(await errorReply(await post(provider(), '/api/chat', request()), 503, '4'), {
      error: 'server busy',
    });
  });

  it('cuts the stream after the first delta', async () => {
    provider().script({ kind: 'cut-after-first-token' });
    const { text, error } = await readAll(await post(provider(), '/api/chat', request(true)));
    assert.ok(error, 'the body should end abruptly');
    assert.deepEqual(
      ndjson<OllamaLine>(text).map((line) => line.message.content),
      ['Hello '],
    );
  });

  it('answers /api/tags by tagsHealthy, records it, and does not consume the script', async () => {
    provider().script({ kind: 'status', status: 500 });
    const healthy = await fetch(`${provider().url}/api/tags`);
    assert.equal(healthy.status, 200);
    assert.equal(parse<{ models: { name: string }[] }>(await healthy.text()).models[0]?.name, 'llama3.1:latest');
    provider().tagsHealthy = false;
    const unhealthy = await fetch(`${provider().url}/api/tags`);
    assert.equal(unhealthy.status, 503);
    assert.equal(typeof parse<{ error: unknown }>(await unhealthy.text()).error, 'string');
    assert.equal((await post(provider(), '/api/chat', request(false))).status, 500);
    assert.deepEqual(
      provider().requests.map((r) => `${r.method} ${r.path}`),
      ['GET /api/tags', 'GET /api/tags', 'POST /api/chat'],
    );
  });
});

describe('FakeLlmProvider: behaviours', () => {
  const provider = useProvider('anthropic');
  const auth = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
  const request = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] };

  it('consumes the script in order, then uses the fallback; reset() restores the defaults', async () => {
    provider().fallback = { kind: 'status', status: 500 };
    provider().script({ kind: 'ok', text: 'first' }, { kind: 'status', status: 404 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await post(provider(), '/v1/messages', request, auth)).status);
    }
    assert.deepEqual(statuses, [200, 404, 500]);
    provider().script({ kind: 'status', status: 503 });
    provider().reset();
    assert.equal(provider().requests.length, 0);
    assert.equal((await post(provider(), '/v1/messages', request, auth)).status, 200);
  });

  it('answers malformed JSON with a JSON content type, and a stream with a data line that is not JSON', async () => {
    provider().script({ kind: 'malformed' }, { kind: 'malformed' });
    const response = await post(provider(), '/v1/messages', request, auth);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const text = await response.text();
    assert.throws(() => parse(text), SyntaxError);
    const stream = await readAll(await post(provider(), '/v1/messages', { ...request, stream: true }, auth));
    assert.equal(stream.error, undefined);
    const frame = present(sse(stream.text)[0], 'the first frame');
    assert.throws(() => parse(frame.data), SyntaxError);
  });

  it('delays the first byte by delayMs', async () => {
    provider().script({ kind: 'ok', delayMs: 30 });
    const started = Date.now();
    const response = await post(provider(), '/v1/messages', request, auth);
    assert.ok(Date.now() - started >= 25);
    assert.equal(response.status, 200);
  });

  it('hangs until stop()', async () => {
    const hanging = await FakeLlmProvider.start('openai');
    hanging.script({ kind: 'hang' });
    const answer = post(
      hanging,
      '/v1/chat/completions',
      { model: 'm', messages: [] },
      { authorization: 'Bearer k' },
    ).then(
      () => 'answered',
      () => 'failed',
    );
    await eventually(() => assert.equal(hanging.requests.length, 1), { intervalMs: 5, timeoutMs: 2000 });
    await hanging.stop();
    assert.equal(await answer, 'failed');
  });
});
