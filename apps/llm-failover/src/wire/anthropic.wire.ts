import { randomUUID } from 'node:crypto';

import type { StopReason, Usage } from './canonical';
import type { ProviderWire } from './provider-wire';
import { join, MalformedReplyError, nestedErrorMessage, num, obj, parseJson, str } from './provider-wire';
import { sseEvents } from './sse';

const anthropicStop = (s: unknown): StopReason =>
  s === 'max_tokens' ? 'length' : s === 'stop_sequence' ? 'stop_sequence' : 'end';

/** Anthropic's Messages API (/v1/messages), with its SSE event stream. */
export const anthropicWire: ProviderWire = {
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
    if (!Array.isArray(content)) {
      throw new MalformedReplyError(p.name, 'no content');
    }
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
          if (delta.type === 'text_delta' && typeof delta.text === 'string') {
            yield { type: 'text', text: delta.text };
          }
          break;
        }
        case 'message_delta': {
          stopReason = anthropicStop(obj(data.delta).stop_reason);
          const u = obj(data.usage);
          if (u.output_tokens !== undefined) {
            usage.outputTokens = num(u.output_tokens);
          }
          if (u.input_tokens !== undefined) {
            usage.inputTokens = num(u.input_tokens);
          }
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
  errorMessage: nestedErrorMessage,
  health: (p) => ({
    url: join(p.url, '/v1/models'),
    headers: { 'x-api-key': p.apiKey ?? '', 'anthropic-version': '2023-06-01' },
  }),
};
