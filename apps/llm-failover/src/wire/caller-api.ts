import { randomUUID } from 'node:crypto';

import type { LlmApi } from '@waggle/contracts';

import type { ChatMessage, ChatRequest, ChatResult, StopReason, Usage } from './canonical';
import { CallerInputError, textOf } from './canonical';
import { sseFrame } from './sse';

/** Writes one streamed answer in a caller's API shape, frame by frame. */
export interface StreamWriter {
  start(): string;
  text(text: string): string;
  done(stopReason: StopReason, usage: Usage): string;
  /** The stream broke after it began: an error event, then the end. */
  error(message: string): string;
}

/** One caller API shape: how its requests read and its answers and errors are written. */
export interface CallerApi {
  parse(body: Record<string, unknown>): ChatRequest;
  render(result: ChatResult, requestedModel: string): unknown;
  stream(requestedModel: string): StreamWriter;
  errorBody(status: number, message: string, type?: string): unknown;
}

const DEFAULT_MAX_TOKENS = 4096;
/** Fields that change what would be generated and that this gateway does not translate: refused, not dropped. */
const UNSUPPORTED = [
  'tools',
  'tool_choice',
  'functions',
  'function_call',
  'n',
  'response_format',
  'logprobs',
  'thinking',
  'audio',
  'modalities',
];

function number(body: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new CallerInputError(`${key} must be a number from ${min} to ${max}`);
  }
  return value;
}

function common(body: Record<string, unknown>) {
  const unsupported = UNSUPPORTED.filter((k) => body[k] !== undefined && !(k === 'n' && body[k] === 1));
  if (unsupported.length) {
    throw new CallerInputError(`not supported by the Waggle gateway: ${unsupported.join(', ')}`);
  }
  if (typeof body.model !== 'string' || !body.model) {
    throw new CallerInputError('model is required (a model name or an alias such as "default" or "fast")');
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    throw new CallerInputError('stream must be a boolean');
  }
  const stop = body.stop ?? body.stop_sequences;
  const stops = stop === undefined || stop === null ? undefined : typeof stop === 'string' ? [stop] : stop;
  if (stops !== undefined && !(Array.isArray(stops) && stops.every((s) => typeof s === 'string'))) {
    throw new CallerInputError('stop must be a string or an array of strings');
  }
  return {
    model: body.model,
    stream: body.stream === true,
    temperature: number(body, 'temperature', 0, 2),
    topP: number(body, 'top_p', 0, 1),
    stop: stops,
  };
}

function messagesOf(value: unknown, allowSystem: boolean): { system?: string; messages: ChatMessage[] } {
  if (!Array.isArray(value) || !value.length) {
    throw new CallerInputError('messages must be a non-empty array');
  }
  const system: string[] = [];
  const messages: ChatMessage[] = [];
  value.forEach((raw: unknown, i) => {
    const m = raw as { role?: unknown; content?: unknown };
    if (allowSystem && (m?.role === 'system' || m?.role === 'developer')) {
      system.push(textOf(m.content, `messages[${i}].content`));
    } else if (m?.role === 'user' || m?.role === 'assistant') {
      messages.push({ role: m.role, content: textOf(m.content, `messages[${i}].content`) });
    } else {
      throw new CallerInputError(`messages[${i}].role must be ${allowSystem ? 'system, ' : ''}user or assistant`);
    }
  });
  if (!messages.length) {
    throw new CallerInputError('messages needs at least one user message');
  }
  return { system: system.length ? system.join('\n\n') : undefined, messages };
}

const OPENAI_FINISH: Record<StopReason, string> = { end: 'stop', length: 'length', stop_sequence: 'stop' };
const ANTHROPIC_STOP: Record<StopReason, string> = {
  end: 'end_turn',
  length: 'max_tokens',
  stop_sequence: 'stop_sequence',
};

/** OpenAI's `POST /v1/chat/completions`. */
export const openAiApi: CallerApi = {
  parse(body) {
    const base = common(body);
    const maxTokens =
      number(body, 'max_completion_tokens', 1, 1_000_000) ??
      number(body, 'max_tokens', 1, 1_000_000) ??
      DEFAULT_MAX_TOKENS;
    return { ...base, ...messagesOf(body.messages, true), maxTokens };
  },
  render(result, requestedModel) {
    return {
      id: `chatcmpl-${result.id}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: requestedModel,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: result.text, refusal: null },
          logprobs: null,
          finish_reason: OPENAI_FINISH[result.stopReason],
        },
      ],
      usage: {
        prompt_tokens: result.usage.inputTokens,
        completion_tokens: result.usage.outputTokens,
        total_tokens: result.usage.inputTokens + result.usage.outputTokens,
      },
    };
  },
  stream(requestedModel) {
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: object, finish: string | null, extra: object = {}) =>
      sseFrame({
        id,
        object: 'chat.completion.chunk',
        created,
        model: requestedModel,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        ...extra,
      });
    return {
      start: () => chunk({ role: 'assistant', content: '' }, null),
      text: (text) => chunk({ content: text }, null),
      done: (stopReason, usage) =>
        chunk({}, OPENAI_FINISH[stopReason]) +
        sseFrame({
          id,
          object: 'chat.completion.chunk',
          created,
          model: requestedModel,
          choices: [],
          usage: {
            prompt_tokens: usage.inputTokens,
            completion_tokens: usage.outputTokens,
            total_tokens: usage.inputTokens + usage.outputTokens,
          },
        }) +
        sseFrame('[DONE]'),
      error: (message) =>
        sseFrame({ error: { message, type: 'server_error', param: null, code: 'stream_interrupted' } }) +
        sseFrame('[DONE]'),
    };
  },
  errorBody(status, message, type) {
    const kind =
      type ??
      (status === 429
        ? 'rate_limit_exceeded'
        : status === 402
          ? 'insufficient_quota'
          : status >= 500
            ? 'server_error'
            : 'invalid_request_error');
    return { error: { message, type: kind, param: null, code: kind } };
  },
};

/** Anthropic's `POST /v1/messages`. */
export const anthropicApi: CallerApi = {
  parse(body) {
    const base = common(body);
    const maxTokens = number(body, 'max_tokens', 1, 1_000_000);
    if (maxTokens === undefined) {
      throw new CallerInputError('max_tokens is required');
    }
    const { messages } = messagesOf(body.messages, false);
    const system = body.system === undefined ? undefined : textOf(body.system, 'system');
    return { ...base, system, messages, maxTokens };
  },
  render(result, requestedModel) {
    return {
      id: `msg_${result.id}`,
      type: 'message',
      role: 'assistant',
      model: requestedModel,
      content: [{ type: 'text', text: result.text }],
      stop_reason: ANTHROPIC_STOP[result.stopReason],
      stop_sequence: null,
      usage: { input_tokens: result.usage.inputTokens, output_tokens: result.usage.outputTokens },
    };
  },
  stream(requestedModel) {
    const id = `msg_${randomUUID()}`;
    return {
      start: () =>
        sseFrame(
          {
            type: 'message_start',
            message: {
              id,
              type: 'message',
              role: 'assistant',
              model: requestedModel,
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: { input_tokens: 0, output_tokens: 0 },
            },
          },
          'message_start',
        ) +
        sseFrame(
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
          'content_block_start',
        ),
      text: (text) =>
        sseFrame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }, 'content_block_delta'),
      done: (stopReason, usage) =>
        sseFrame({ type: 'content_block_stop', index: 0 }, 'content_block_stop') +
        sseFrame(
          {
            type: 'message_delta',
            delta: { stop_reason: ANTHROPIC_STOP[stopReason], stop_sequence: null },
            usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens },
          },
          'message_delta',
        ) +
        sseFrame({ type: 'message_stop' }, 'message_stop'),
      error: (message) => sseFrame({ type: 'error', error: { type: 'api_error', message } }, 'error'),
    };
  },
  errorBody(status, message, type) {
    const kind =
      type ??
      {
        400: 'invalid_request_error',
        401: 'authentication_error',
        402: 'billing_error',
        403: 'permission_error',
        404: 'not_found_error',
        429: 'rate_limit_error',
      }[status] ??
      'api_error';
    return { type: 'error', error: { type: kind, message } };
  },
};

export const CALLER_APIS: Record<LlmApi, CallerApi> = { openai: openAiApi, anthropic: anthropicApi };
